"""MAV-Celeb and CelebV-HQ readers, format detection, the registry and iter_references."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from test_formats_factory import (
    celebvhq_document,
    celebvhq_text,
    small_vox2_tree,
    vox_text,
    write_files,
    zip_files,
)

from voxrepro.errors import FormatError, InvalidInputError
from voxrepro.formats import (
    FORMAT_NAMES,
    READERS,
    detect_format,
    format_mavceleb,
    iter_references,
    read_celebvhq,
    read_mavceleb,
    read_segments,
    write_mavceleb_tree,
)
from voxrepro.formats.celebvhq import seconds_to_frames
from voxrepro.segment import BoxUnits, Problem


def _mavceleb_files() -> dict[str, str]:
    pixel_boxes = [(223, 80, 130, 130)] * 30
    return {
        "mavceleb/id0001/English/abcdefghijk/00001.txt": vox_text(
            "id0001", "abcdefghijk", range(50)
        ),
        "mavceleb/id0001/Urdu/ABCDEFGHIJK/00001.txt": vox_text(
            "id0001", "ABCDEFGHIJK", range(100, 130), pixel_boxes, fv_conf="15.000", pixels=True
        ),
        "mavceleb/id0002/Hindi/0123456789_/00001.txt": vox_text("id0002", "0123456789_", range(75)),
    }


def test_registry_names() -> None:
    assert FORMAT_NAMES == ("vox1", "vox2", "mavceleb", "celebvhq")
    assert set(READERS) == set(FORMAT_NAMES)


def test_mavceleb_layout_language_and_units(tmp_path: Path) -> None:
    files = _mavceleb_files()
    root = write_files(tmp_path, files)
    assert detect_format(root) == "mavceleb"
    problems: list[Problem] = []
    segments = list(read_segments(root, problems=problems))
    assert problems == []
    found = {(s.identity, s.extra["language"], s.reference, s.box_units) for s in segments}
    assert found == {
        ("id0001", "English", "abcdefghijk", BoxUnits.NORMALISED),
        ("id0001", "Urdu", "ABCDEFGHIJK", BoxUnits.PIXELS),
        ("id0002", "Hindi", "0123456789_", BoxUnits.NORMALISED),
    }
    out = tmp_path / "out"
    for path in write_mavceleb_tree(segments, out):
        assert path.read_text() == files["mavceleb/" + path.relative_to(out).as_posix()]
    assert all(format_mavceleb(s) for s in segments)


def test_mavceleb_without_language_level_still_reads(tmp_path: Path) -> None:
    root = write_files(
        tmp_path, {"id0001/abcdefghijk/00001.txt": vox_text("id0001", "abcdefghijk", [1])}
    )
    problems: list[Problem] = []
    (segment,) = read_mavceleb(root, problems)
    assert problems == [] and "language" not in segment.extra
    assert segment.identity == "id0001"


def test_celebvhq_clips_map_to_segments(tmp_path: Path) -> None:
    path = tmp_path / "celebvhq_info.json"
    path.write_text(celebvhq_text(celebvhq_document()))
    assert detect_format(path) == "celebvhq"
    problems: list[Problem] = []
    first, second = read_segments(path, problems=problems)
    assert problems == []
    # 81.62 s * 25 = 2040.5 -> first frame starting at or after it is 2041;
    # 86.17 s * 25 = 2154.25 -> last frame starting before it is 2154.
    assert (first.first_frame, first.last_frame) == (2041, 2154)
    assert first.key == ("M2Ohb0FAaJU", "M2Ohb0FAaJU", "M2Ohb0FAaJU_1")
    np.testing.assert_allclose(first.boxes[0], [0.1964, 0.0, 0.6922 - 0.1964, 0.8815])
    assert np.all(first.boxes == first.boxes[0])  # one box for the whole clip
    assert first.extra["start_sec"] == 81.62 and first.extra["bbox"]["right"] == 0.6922
    assert first.extra["identity_is_proxy"] is True
    assert (second.first_frame, second.last_frame) == (1318, 1402)  # 52.72*25=1318, 56.1*25=1402.5
    assert second.source_line is not None and second.source_line > first.source_line


def test_seconds_to_frames_edges() -> None:
    np.testing.assert_array_equal(seconds_to_frames(0.0, 0.2), [0, 1, 2, 3, 4])  # [0, 0.2) s
    np.testing.assert_array_equal(seconds_to_frames(0.04, 0.08), [1])
    assert seconds_to_frames(1.0, 1.0).size == 0


def test_celebvhq_bad_clips_are_problems_with_lines(tmp_path: Path) -> None:
    document = celebvhq_document()
    clips = document["clips"]
    clips["abcdefghijk_0"] = {"ytb_id": "abcdefghijk", "duration": {"start_sec": 1, "end_sec": 2}}
    clips["bad!id_0"] = dict(clips["M2Ohb0FAaJU_1"], ytb_id="bad!id")
    clips["abcdefghijk_1"] = dict(clips["M2Ohb0FAaJU_1"], ytb_id="abcdefghijk")
    clips["abcdefghijk_1"]["duration"] = {"start_sec": 5.0, "end_sec": 4.0}
    clips["abcdefghijk_2"] = dict(clips["M2Ohb0FAaJU_1"], ytb_id="abcdefghijk")
    clips["abcdefghijk_2"]["bbox"] = {"top": "x", "bottom": 1, "left": 0, "right": 1}
    text = celebvhq_text(document)
    path = tmp_path / "celebvhq_info.json"
    path.write_text(text)
    problems: list[Problem] = []
    segments = list(read_celebvhq(path, problems))
    assert [s.utterance for s in segments] == ["M2Ohb0FAaJU_1", "_0tf2n3rlJU_0"]
    lines = text.splitlines()

    def line_of(key: str) -> int:
        return next(i for i, line in enumerate(lines, 1) if line.strip().startswith(f'"{key}"'))

    assert [str(p) for p in problems] == [
        f"{path}:{line_of('abcdefghijk_0')}: clip 'abcdefghijk_0': missing field 'bbox'",
        f"{path}:{line_of('bad!id_0')}: clip 'bad!id_0': ytb_id 'bad!id' is not a valid YouTube id",
        f"{path}:{line_of('abcdefghijk_1')}: clip 'abcdefghijk_1': bad time span [5.0, 4.0) s "
        "(0 frames at 25 fps)",
        f"{path}:{line_of('abcdefghijk_2')}: clip 'abcdefghijk_2': bad field (top is 'x', not a "
        "number)",
    ]


def test_celebvhq_invalid_json_and_zip(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"clips": {\n  "a": \n}')
    problems: list[Problem] = []
    assert list(read_celebvhq(broken, problems)) == []
    assert str(problems[0]).startswith(f"{broken}:3: invalid JSON")
    archive = zip_files(
        tmp_path / "celebvhq.zip", {"celebvhq_info.json": json.dumps(celebvhq_document())}
    )
    assert detect_format(archive) == "celebvhq"
    assert [s.utterance for s in read_segments(archive)] == ["M2Ohb0FAaJU_1", "_0tf2n3rlJU_0"]


def test_detect_vox2_and_failures(tmp_path: Path) -> None:
    assert detect_format(write_files(tmp_path / "v2", small_vox2_tree())) == "vox2"
    (tmp_path / "nothing").mkdir()
    with pytest.raises(FormatError, match=r"no \.txt or \.json"):
        detect_format(tmp_path / "nothing")
    junk = write_files(tmp_path / "junk", {"a/b/c.txt": "hello\n"})
    with pytest.raises(FormatError, match="pass --format"):
        detect_format(junk)
    with pytest.raises(FormatError, match="no such file"):
        detect_format(tmp_path / "absent")


def test_read_segments_rejects_unknown_format_and_foreign_options(tmp_path: Path) -> None:
    root = write_files(tmp_path, small_vox2_tree())
    with pytest.raises(InvalidInputError, match="unknown format 'vox3'"):
        read_segments(root, "vox3")
    with pytest.raises(InvalidInputError, match="box_resolution"):
        read_segments(root, "vox2", box_resolution=(640, 360))
    ticks: list[int] = []
    assert len(list(read_segments(root, "vox2", progress=ticks.append))) == len(ticks) == 5


def test_iter_references_unique_in_order_and_skips_invalid(tmp_path: Path) -> None:
    files = small_vox2_tree()
    files["txt/id00017/zzzzzzzzzzzz/00001.txt"] = vox_text("id00017", "not/an-id", [1])
    root = write_files(tmp_path, files)
    problems: list[Problem] = []
    refs = list(iter_references(root, problems=problems))
    assert refs == ["21Uxsk56VDQ", "_raOc3-IRsw", "_mjZ87sK6cA"]
    assert [p.message for p in problems] == ["Reference 'not/an-id' is not a valid YouTube id"]
    assert problems[0].line == 2
    celeb = tmp_path / "celebvhq_info.json"
    celeb.write_text(json.dumps(celebvhq_document()))
    assert list(iter_references(celeb)) == ["M2Ohb0FAaJU", "_0tf2n3rlJU"]
