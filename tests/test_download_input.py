"""Which ids ``voxrepro download`` gets: id lists, metafile trees/zips, validation first."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from voxrepro.download_input import COMMAND_LINE, collect_ids, iter_id_list, looks_like_metafiles
from voxrepro.errors import FormatError, InvalidInputError

# The four videos of the shared VoxCeleb1 sample (2 identities, 39 utterance files).
SHARED_REFERENCES = {"22Lt2SMT6u4", "22npKEBvtS4", "5hHu6Nuhj_4", "7bsVPobprgw"}


def test_id_list_takes_first_field_skips_comments_and_reports_lines(tmp_path: Path) -> None:
    listing = tmp_path / "ids.txt"
    listing.write_text(
        "\ufeff# SEED-style list: id<TAB>anything\n"
        "abcdefghijk\tsome title\n"
        "\n"
        "   ../../etc   \n"
        "bbbbbbbbbbb  # trailing comment\n"
        "abcdefghijk\n"  # duplicate: kept once
        "toolongvideoid\n"
        "ccc-ccc_ccc\n",
        encoding="utf-8",
    )
    selection = collect_ids(["zzzzzzzzzzz", "bad/id"], listing)
    assert selection.ids == ["zzzzzzzzzzz", "abcdefghijk", "bbbbbbbbbbb", "ccc-ccc_ccc"]
    assert [str(p) for p in selection.rejected] == [
        f"{COMMAND_LINE}: invalid YouTube id 'bad/id' (expected 11 of A-Z a-z 0-9 _ -)",
        f"{listing}:4: invalid YouTube id '../../etc' (expected 11 of A-Z a-z 0-9 _ -)",
        f"{listing}:7: invalid YouTube id 'toolongvideoid' (expected 11 of A-Z a-z 0-9 _ -)",
    ]


def test_iter_id_list_line_numbers(tmp_path: Path) -> None:
    listing = tmp_path / "ids.tsv"
    listing.write_text("# header\n\nabcdefghijk\t1\n  bbbbbbbbbbb 2\n", encoding="utf-8")
    assert list(iter_id_list(listing)) == [("abcdefghijk", 3), ("bbbbbbbbbbb", 4)]


def test_unreadable_id_list_is_one_line_error(tmp_path: Path) -> None:
    binary = tmp_path / "ids.txt"
    binary.write_bytes(b"\xff\xfe\xfa\x00 not utf-8 \xc3")
    with pytest.raises(InvalidInputError, match=r"ids\.txt: cannot read id list"):
        collect_ids([], binary)
    with pytest.raises(InvalidInputError, match="no such file or folder"):
        collect_ids([], tmp_path / "missing.txt")


def test_metafile_tree_zip_and_single_file_give_references(
    tmp_path: Path, shared_metafiles: Path
) -> None:
    tree = shared_metafiles / "vox1" / "txt"
    assert looks_like_metafiles(tree)
    from_tree = collect_ids([], tree)
    assert set(from_tree.ids) == SHARED_REFERENCES
    assert len(from_tree.ids) == len(SHARED_REFERENCES)  # each video once
    assert from_tree.rejected == []

    archive = tmp_path / "vox1_dev_txt.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(tree.rglob("*.txt")):
            zf.write(path, Path("txt") / path.relative_to(tree))
    assert collect_ids([], archive).ids == from_tree.ids

    one = next(iter(sorted(tree.rglob("*.txt"))))
    assert looks_like_metafiles(one)
    assert collect_ids([], one).ids == [one.parent.name]


def test_metafile_with_a_bad_reference_is_reported(tmp_path: Path) -> None:
    folder = tmp_path / "txt" / "id00001" / "abcdefghijk"
    folder.mkdir(parents=True)
    header = "Identity  : \tid00001\nReference : \t{ref}\nOffset    : \t0\nFV Conf   : \t9.9\n"
    rows = "\nFRAME \tX \tY \tW \tH \n000001 \t10 \t10 \t50 \t50 \n"
    (folder / "00001.txt").write_text(header.format(ref="abcdefghijk") + rows, encoding="utf-8")
    (folder / "00002.txt").write_text(header.format(ref="../../etc") + rows, encoding="utf-8")
    selection = collect_ids([], tmp_path / "txt")
    assert selection.ids == ["abcdefghijk"]
    assert len(selection.rejected) == 1
    assert "../../etc" in str(selection.rejected[0])
    assert "00002.txt" in str(selection.rejected[0])


def test_folder_without_metafiles_is_a_format_error(tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("nothing here\n", encoding="utf-8")
    with pytest.raises(FormatError):
        collect_ids([], tmp_path)


def test_plain_list_is_not_mistaken_for_metafiles(tmp_path: Path) -> None:
    listing = tmp_path / "ids.txt"
    listing.write_text("# Identity: comments do not count\nabcdefghijk\n", encoding="utf-8")
    assert not looks_like_metafiles(listing)
    assert collect_ids([], listing).ids == ["abcdefghijk"]
