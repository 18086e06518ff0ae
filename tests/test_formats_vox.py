"""VoxCeleb1/2 txt: real files round-trip byte for byte, synthetic Vox2 too; folder == zip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_formats_factory import (
    DOC_VOX2_EXAMPLE,
    small_vox2_tree,
    vox_text,
    write_files,
    zip_files,
)

from voxrepro.errors import FormatError, InvalidInputError
from voxrepro.formats import (
    detect_format,
    format_vox1,
    format_vox2,
    read_segments,
    read_vox1,
    read_vox2,
    write_vox1_tree,
    write_vox2_tree,
)
from voxrepro.formats.voxtxt import parse_txt_fast
from voxrepro.formats.voxtxt_careful import parse_txt_careful
from voxrepro.segment import BoxUnits, make_segment


def _real_txts(shared_metafiles: Path) -> list[Path]:
    files = sorted(shared_metafiles.rglob("*.txt"))
    assert files, f"no txt under {shared_metafiles}"
    return files


def test_every_real_metafile_parses_cleanly_and_round_trips(shared_metafiles: Path) -> None:
    files = _real_txts(shared_metafiles)
    problems: list = []
    segments = list(read_segments(shared_metafiles, problems=problems))
    assert problems == []
    assert len(segments) == len(files) == 39  # PROVENANCE.md: 39 files
    assert sum(s.num_frames for s in segments) == 6474  # PROVENANCE.md: 6,474 frame rows
    for segment in segments:
        original = Path(segment.source_file).read_bytes()
        assert format_vox1(segment).encode() == original, segment.source_file
        assert segment.box_units is BoxUnits.PIXELS
        assert segment.extra["box_resolution"] is None
        identity, reference, name = Path(segment.source_file).parts[-3:]
        assert segment.key == (identity, reference, name.removesuffix(".txt"))


def test_real_vox1_tree_rewritten_is_byte_identical(shared_metafiles: Path, tmp_path: Path) -> None:
    txt_root = shared_metafiles / "vox1" / "txt"
    written = list(write_vox1_tree(read_vox1(txt_root), tmp_path))
    assert len(written) == 39
    for path in written:
        rel = path.relative_to(tmp_path)
        assert path.read_bytes() == (txt_root / rel).read_bytes(), rel
    assert not list(tmp_path.rglob(".tmp-*"))  # atomic writes leave no temp files


def test_real_vox1_values(shared_metafiles: Path) -> None:
    path = shared_metafiles / "vox1/txt/id10130/7bsVPobprgw/00001.txt"
    (segment,) = read_vox1(path)
    assert (segment.offset, segment.fv_conf, segment.asd_conf) == (0, 16.827, 8.552)
    rows = path.read_text().count("\n") - 7  # five header lines, a blank, the column line
    assert segment.num_frames == rows
    assert (segment.first_frame, segment.last_frame) == (2080, 2277)  # first and last rows
    np.testing.assert_array_equal(segment.boxes[0], [294, 65, 90, 91])
    assert detect_format(path) == "vox1"


def test_vox1_box_resolution_is_recorded_only_when_given(shared_metafiles: Path) -> None:
    (segment,) = read_vox1(
        shared_metafiles / "vox1/txt/id10130/7bsVPobprgw/00001.txt", box_resolution=(640, 360)
    )
    assert segment.extra["box_resolution"] == (640, 360)
    with pytest.raises(InvalidInputError):
        read_vox1(shared_metafiles, box_resolution=(0, 360))


def test_doc_example_parses_to_the_documented_values(tmp_path: Path) -> None:
    path = write_files(tmp_path, {"id00012/_raOc3-IRsw/00001.txt": DOC_VOX2_EXAMPLE})
    problems: list = []
    (segment,) = read_vox2(path, problems)
    assert problems == []
    assert segment.key == ("id00012", "_raOc3-IRsw", "00001")
    assert (segment.offset, segment.fv_conf, segment.asd_conf) == (2, 20.23, 2.765)
    np.testing.assert_array_equal(segment.frames, [349])
    np.testing.assert_allclose(segment.boxes, [[0.319, 0.067, 0.424, 0.753]])
    assert segment.box_units is BoxUnits.NORMALISED
    assert format_vox2(segment) == DOC_VOX2_EXAMPLE


def test_synthetic_vox2_tree_round_trips_byte_for_byte(tmp_path: Path) -> None:
    files = small_vox2_tree()
    source = write_files(tmp_path / "src", files)
    problems: list = []
    segments = list(read_vox2(source, problems))
    assert problems == [] and len(segments) == len(files)
    out = tmp_path / "out"
    written = list(write_vox2_tree(segments, out))
    assert [p.relative_to(out).as_posix() for p in written] == [
        rel.removeprefix("txt/") for rel in sorted(files)
    ]
    for path in written:
        assert path.read_text() == files["txt/" + path.relative_to(out).as_posix()]


def test_pipeline_segment_without_raw_extras_gives_the_published_layout() -> None:
    segment = make_segment(
        "id00012",
        "_raOc3-IRsw",
        "00001",
        [349],
        [[0.319, 0.067, 0.424, 0.753]],
        offset=2,
        fv_conf=20.23,
        asd_conf=2.765,
        dataset="pipeline",
    )
    assert format_vox2(segment) == DOC_VOX2_EXAMPLE


def test_unknown_values_still_give_a_readable_file(tmp_path: Path) -> None:
    segment = make_segment("id00001", "abcdefghijk", "00003", [5, 6], [[0.1, 0.1, 0.5, 0.5]] * 2)
    text = format_vox2(segment)
    assert "Offset    : \t0\n" in text
    assert "FV Conf   : \tnan\t(1)\n" in text and "ASD Conf  : \tnan\n" in text
    (path,) = write_vox2_tree([segment], tmp_path)
    problems: list = []
    (back,) = read_vox2(path, problems)
    assert problems == []
    assert (back.offset, back.fv_conf, back.asd_conf) == (0, None, None)
    assert format_vox2(back) == text


def test_changed_values_are_formatted_afresh_unchanged_kept_verbatim(tmp_path: Path) -> None:
    text = vox_text("id00012", "_raOc3-IRsw", [1, 2], fv_conf="20.2300\t(1)", asd_conf="2.765")
    path = write_files(tmp_path, {"a/id00012/_raOc3-IRsw/00001.txt": text})
    (segment,) = read_vox2(path)
    assert "FV Conf   : \t20.2300\t(1)\n" in format_vox2(segment)  # raw text kept
    segment.fv_conf, segment.asd_conf = 7.5, None
    rewritten = format_vox2(segment)
    assert "FV Conf   : \t7.500\t(1)\n" in rewritten and "ASD Conf  : \tnan\n" in rewritten


def test_writers_refuse_wrong_units_and_unsafe_ids(tmp_path: Path) -> None:
    pixels = make_segment("id1", "abcdefghijk", "00001", [1], [[10, 10, 50, 50]])
    pixels.box_units = BoxUnits.PIXELS
    with pytest.raises(InvalidInputError, match="pixels"):
        format_vox2(pixels)
    normalised = make_segment("id1", "abcdefghijk", "00001", [1], [[0.1, 0.1, 0.5, 0.5]])
    with pytest.raises(InvalidInputError, match="normalised"):
        format_vox1(normalised)
    escaping = make_segment("..", "abcdefghijk", "00001", [1], [[0.1, 0.1, 0.5, 0.5]])
    with pytest.raises(InvalidInputError):
        list(write_vox2_tree([escaping], tmp_path / "root"))
    assert not (tmp_path / "abcdefghijk").exists()


def test_folder_and_zip_give_identical_segments(tmp_path: Path) -> None:
    files = small_vox2_tree()
    folder = write_files(tmp_path / "tree", files)
    archive = zip_files(tmp_path / "vox2_test_txt.zip", dict(reversed(files.items())))
    from_folder = list(read_segments(folder))
    from_zip = list(read_segments(archive))
    assert len(from_folder) == len(from_zip) == 5
    for a, b in zip(from_folder, from_zip, strict=True):
        assert a.key == b.key
        np.testing.assert_array_equal(a.frames, b.frames)
        np.testing.assert_array_equal(a.boxes, b.boxes)
        assert (a.offset, a.fv_conf, a.asd_conf, a.box_units) == (
            b.offset,
            b.fv_conf,
            b.asd_conf,
            b.box_units,
        )
        assert a.extra == b.extra
        rel_a = Path(a.source_file).relative_to(folder).as_posix()
        assert b.source_file == f"{archive}/{rel_a}"


def test_fast_and_careful_paths_agree() -> None:
    data = small_vox2_tree()["txt/id00012/21Uxsk56VDQ/00001.txt"].encode()
    fast = parse_txt_fast(data)
    problems: list = []
    careful = parse_txt_careful(data, "x.txt", problems)
    assert fast is not None and careful is not None and problems == []
    assert fast.header == careful.header
    np.testing.assert_array_equal(fast.frames, careful.frames)
    np.testing.assert_array_equal(fast.boxes, careful.boxes)
    np.testing.assert_array_equal(fast.row_lines, careful.row_lines)


def test_whitespace_variants_parse_silently(tmp_path: Path) -> None:
    canonical = vox_text("id00012", "_raOc3-IRsw", range(10, 20))
    crlf = canonical.replace("\n", "\r\n")
    no_trailing_spaces = canonical.replace(" \t", "\t").replace(" \n", "\n")
    assert parse_txt_fast(crlf.encode()) is None  # these take the careful path
    root = write_files(
        tmp_path,
        {
            "id00012/_raOc3-IRsw/00001.txt": canonical,
            "id00012/_raOc3-IRsw/00002.txt": crlf,
            "id00012/_raOc3-IRsw/00003.txt": no_trailing_spaces,
        },
    )
    problems: list = []
    first, *others = read_vox2(root, problems)
    assert problems == [] and len(others) == 2
    for other in others:
        np.testing.assert_array_equal(other.boxes, first.boxes)
        assert (other.offset, other.fv_conf) == (first.offset, first.fv_conf)


def test_missing_path_and_unreadable_zip_raise_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="no such file"):
        list(read_segments(tmp_path / "absent"))
    fake = tmp_path / "vox2_test_txt.zip"
    fake.write_bytes(b"this is not a zip archive")
    with pytest.raises(FormatError, match="unreadable zip") as info:
        list(read_vox2(fake))
    assert "\n" not in str(info.value)


def test_references_starting_with_a_dash_are_written(tmp_path: Path) -> None:
    # About 1 in 64 YouTube ids starts with "-"; the tree writer must accept them.
    segment = make_segment("id00012", "-iGAYbbyetJ", "00001", [7], [[0.1, 0.2, 0.3, 0.5]])
    (path,) = write_vox2_tree([segment], tmp_path)
    assert path == tmp_path.resolve() / "id00012" / "-iGAYbbyetJ" / "00001.txt"
    (back,) = read_vox2(tmp_path)
    assert back.reference == "-iGAYbbyetJ"
