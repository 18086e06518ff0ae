"""Bad input is reported as exact ``file:line: message`` problems and the batch goes on."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from test_formats_factory import vox_text, write_files

from voxrepro.formats import read_vox2
from voxrepro.segment import Problem

REF = "_raOc3-IRsw"
GOOD = vox_text("id00012", REF, range(10, 20))


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def _bad_files() -> dict[str, str]:
    rows = _lines(GOOD)  # lines 1-7 header, 8-17 rows for frames 10..19
    non_numeric = rows.copy()
    non_numeric[9] = "000012 \t0.319 \t0.0x7 \t0.424 \t0.753 \n"  # line 10
    return {
        "01_truncated_mid_row.txt": GOOD[:-12],
        "02_truncated_mid_value.txt": GOOD[:-3],
        "03_non_numeric.txt": "".join(non_numeric),
        "04_missing_offset.txt": "".join(rows[:2] + rows[3:]),
        "05_gap.txt": vox_text("id00012", REF, [10, 11, 12, 13, 14, 18, 19, 20]),
        "06_duplicate.txt": vox_text("id00012", REF, [10, 11, 12, 12, 13]),
        "07_empty.txt": "",
        "08_bad_reference.txt": vox_text("id00012", "bad id!", range(3)),
        "09_far_outside.txt": vox_text(
            "id00012", REF, [1, 2], [(0.1, 0.1, 0.4, 0.7), (2.5, 0.067, 0.424, 0.753)]
        ),
        "10_other_identity.txt": vox_text("id00099", REF, range(5)),
        "11_no_rows.txt": "".join(rows[:7]),
        "12_missing_column_line.txt": "".join(rows[:6] + rows[7:]),
        "99_good.txt": GOOD,
    }


@pytest.fixture()
def batch(tmp_path: Path) -> tuple[Path, list, list[Problem]]:
    root = write_files(tmp_path, {f"id00012/{REF}/{n}": t for n, t in _bad_files().items()})
    problems: list[Problem] = []
    segments = list(read_vox2(root, problems))
    return root / "id00012" / REF, segments, problems


def test_each_bad_file_gives_its_exact_problem(batch: tuple[Path, list, list[Problem]]) -> None:
    folder, _, problems = batch
    got = {str(problem) for problem in problems}

    def where(name: str, line: int | None) -> str:
        return f"{folder / name}:{line}" if line is not None else str(folder / name)

    expected = [
        f"{where('01_truncated_mid_row.txt', 17)}: truncated file: last row has 4 of 5 fields",
        f"{where('02_truncated_mid_value.txt', 17)}: truncated file: no newline after the last row",
        f"{where('03_non_numeric.txt', 10)}: non-numeric Y value '0.0x7'",
        f"{where('04_missing_offset.txt', 3)}: missing header line 'Offset :'",
        f"{where('05_gap.txt', 13)}: frame gap: 000014 then 000018 (3 missing)",
        f"{where('06_duplicate.txt', 11)}: duplicate frame 000012 (also on line 10)",
        f"{where('07_empty.txt', None)}: empty file",
        f"{where('08_bad_reference.txt', 2)}: Reference 'bad id!' is not a valid YouTube id",
        f"{where('08_bad_reference.txt', 2)}: header Reference 'bad id!' does not match the path "
        f"'{REF}'",
        f"{where('09_far_outside.txt', 9)}: box far outside the frame (2.5, 0.067, 0.424, 0.753)",
        f"{where('10_other_identity.txt', 1)}: header Identity 'id00099' does not match the path "
        "'id00012'",
        f"{where('11_no_rows.txt', 8)}: no frame rows",
        f"{where('12_missing_column_line.txt', 7)}: missing column line "
        "'FRAME \\tX \\tY \\tW \\tH '",
    ]
    for message in expected:
        assert message in got, f"missing {message!r} in {sorted(got)}"
    assert len(problems) == len(expected), sorted(got)  # nothing reported twice or spuriously


def test_batch_goes_on_and_only_trustworthy_files_yield(
    batch: tuple[Path, list, list[Problem]],
) -> None:
    _, segments, _ = batch
    names = [s.utterance for s in segments]
    # Truncated, malformed, empty and row-less files yield nothing; the rest yield a segment.
    assert names == [
        "04_missing_offset",
        "05_gap",
        "06_duplicate",
        "08_bad_reference",
        "09_far_outside",
        "10_other_identity",
        "12_missing_column_line",
        "99_good",
    ]
    by_name = {s.utterance: s for s in segments}
    assert by_name["04_missing_offset"].offset is None
    assert by_name["04_missing_offset"].fv_conf == 20.23
    assert by_name["10_other_identity"].identity == "id00099"  # the header wins
    assert by_name["12_missing_column_line"].num_frames == 10
    assert by_name["99_good"].num_frames == 10


def test_problems_are_logged_when_not_collected(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = write_files(
        tmp_path, {f"id00012/{REF}/00001.txt": GOOD[:-3], f"id00012/{REF}/2.txt": GOOD}
    )
    with caplog.at_level("WARNING", logger="voxrepro"):
        segments = list(read_vox2(root))
    assert len(segments) == 1
    assert "truncated file" in caplog.text


def test_damaged_zip_member_is_a_problem_and_the_rest_still_parse(tmp_path: Path) -> None:
    archive = tmp_path / "vox2_test_txt.zip"
    marker = "000015 \t0.319"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr(f"txt/id00012/{REF}/00001.txt", GOOD)
        zf.writestr(f"txt/id00012/{REF}/00002.txt", GOOD.replace("000015", "000016", 0))
    data = archive.read_bytes()
    at = data.index(marker.encode())  # first member's stored bytes: break its CRC
    archive.write_bytes(data[:at] + b"9" + data[at + 1 :])
    problems: list[Problem] = []
    segments = list(read_vox2(archive, problems))
    assert [s.utterance for s in segments] == ["00002"]
    assert len(problems) == 1
    assert str(problems[0]).startswith(f"{archive}/txt/id00012/{REF}/00001.txt: unreadable zip")


def test_header_directly_followed_by_rows_loses_no_header_line(tmp_path: Path) -> None:
    rows = _lines(GOOD)
    root = write_files(tmp_path, {f"id00012/{REF}/00001.txt": "".join(rows[:5] + rows[7:])})
    problems: list[Problem] = []
    (segment,) = read_vox2(root, problems)
    assert [(p.line, p.message) for p in problems] == [
        (6, "missing column line 'FRAME \\tX \\tY \\tW \\tH '")
    ]
    assert (segment.offset, segment.fv_conf, segment.asd_conf) == (2, 20.23, 2.765)
    assert segment.num_frames == 10
