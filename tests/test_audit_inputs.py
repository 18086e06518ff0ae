"""The audit's inputs: download state (unavailable videos), box units, real metafiles."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from voxrepro.audit import Metric, compare_segments
from voxrepro.audit.loading import find_state_db, load_side, load_states
from voxrepro.audit.metrics import HEADLINE_METRICS
from voxrepro.audit.units import ComparisonUnits, harmonise_units, parse_resolution
from voxrepro.errors import InvalidInputError
from voxrepro.failures import FailureClass, FailureReason
from voxrepro.formats import read_segments, write_vox1_tree
from voxrepro.segment import BoxUnits, Problem, Segment, make_segment
from voxrepro.store import STATE_FILENAME, DownloadStore, MediaInfo

REF_DONE, REF_FAILED = "doneDoneDon", "failFailFai"
REF_PENDING, REF_ABSENT = "pendPendPen", "absAbsAbsAb"


def seg(ref: str, utt: str, start: int, n: int, identity: str = "id00001") -> Segment:
    return make_segment(identity, ref, utt, np.arange(start, start + n),
                        np.tile((0.3, 0.2, 0.4, 0.7), (n, 1)))


def _official() -> list[Segment]:
    return [
        seg(REF_DONE, "00001", 0, 100),
        seg(REF_DONE, "00002", 300, 100),
        seg(REF_FAILED, "00001", 0, 100, identity="id00002"),
        seg(REF_FAILED, "00002", 500, 100, identity="id00002"),
        seg(REF_FAILED, "00003", 900, 100, identity="id00002"),
        seg(REF_PENDING, "00001", 0, 100),
        seg(REF_ABSENT, "00001", 0, 100, identity="id00003"),
    ]


def _make_state_db(folder: Path) -> Path:
    db = folder / STATE_FILENAME
    with DownloadStore(db) as store:
        store.start_attempt(REF_DONE)
        store.mark_done(REF_DONE, folder / "a.mp4", MediaInfo(1280, 720, 25.0, 60.0))
        store.start_attempt(REF_FAILED)
        store.mark_failed(REF_FAILED, FailureClass.PERMANENT, FailureReason.PRIVATE,
                          "Private video")
        store.add_pending(REF_PENDING)
    return db


def test_unavailable_videos_are_counted_apart_from_missed(tmp_path: Path) -> None:
    official = _official()
    generated = [seg(REF_DONE, "g1", 0, 100)]  # finds one of the two available segments
    states = load_states(_make_state_db(tmp_path))
    report = compare_segments(official, generated, states=states)
    s = report.summary
    assert s[Metric.OFFICIAL_SEGMENTS] == 7
    assert s[Metric.AVAILABLE_SEGMENTS] == 2
    assert s[Metric.UNAVAILABLE_SEGMENTS] == 5
    assert s[Metric.MISSED_SEGMENTS] == 1
    assert s[Metric.SEGMENT_RECALL] == 1 / 2
    assert s[Metric.SEGMENT_RECALL_OVERALL] == 1 / 7
    assert s[Metric.UNAVAILABLE_VIDEOS] == 3
    assert s[Metric.FRAME_RECALL] == 1 / 2  # unavailable frames are not in the denominator
    statuses = dict(zip(
        [f"{r}/{u}" for r, u in zip(report.rows["reference"], report.rows["utterance"],
                                    strict=True)],
        report.rows["status"], strict=True))
    assert statuses[f"{REF_FAILED}/00002"] == "unavailable"
    assert statuses[f"{REF_ABSENT}/00001"] == "unavailable"
    assert statuses[f"{REF_DONE}/00002"] == "missed"
    unavailable = {u["reference"]: u for u in report.unavailable_videos}
    assert unavailable[REF_FAILED]["failure_class"] == "permanent"
    assert unavailable[REF_FAILED]["reason"] == "private"
    assert unavailable[REF_FAILED]["official"] == 3
    assert unavailable[REF_PENDING]["download_status"] == "pending"
    assert unavailable[REF_ABSENT]["reason"] == "not_in_state"
    identity2 = next(i for i in report.identities if i["identity"] == "id00002")
    assert identity2["unavailable_videos"] == 1 and identity2["available_segments"] == 0
    assert identity2["recall"] is None


def test_without_state_every_video_counts_as_available() -> None:
    report = compare_segments(_official(), [seg(REF_DONE, "g1", 0, 100)])
    assert report.summary[Metric.UNAVAILABLE_SEGMENTS] == 0
    assert report.summary[Metric.MISSED_SEGMENTS] == 6
    assert report.summary[Metric.SEGMENT_RECALL] == 1 / 7


def test_generated_segments_prove_a_video_was_available(tmp_path: Path) -> None:
    states = load_states(_make_state_db(tmp_path))
    generated = [seg(REF_FAILED, "g", 0, 100)]
    report = compare_segments(_official(), generated, states=states)
    assert report.summary[Metric.UNAVAILABLE_VIDEOS] == 2
    video = next(v for v in report.videos if v["reference"] == REF_FAILED)
    assert video["available"] and video["matched"] == 1 and video["missed"] == 2


def test_state_db_is_found_next_to_the_inputs(tmp_path: Path) -> None:
    run = tmp_path / "run"
    (run / "txt").mkdir(parents=True)
    db = _make_state_db(run)
    assert find_state_db(None, run / "txt", tmp_path / "elsewhere") == db
    assert find_state_db(None, run) == db
    assert find_state_db(None, tmp_path / "nothing" / "here") is None
    assert find_state_db(run, tmp_path) == db
    with pytest.raises(InvalidInputError, match="no such file"):
        find_state_db(tmp_path / "missing.sqlite3")


# --- units ------------------------------------------------------------------------------------


def _pixels(segment: Segment, resolution: tuple[int, int] | None) -> Segment:
    w, h = resolution or (1280, 720)
    return make_segment(
        segment.identity, segment.reference, segment.utterance, segment.frames,
        segment.boxes * [w, h, w, h], box_units=BoxUnits.PIXELS,
        extra={"box_resolution": resolution},
        source_file=f"txt/{segment.identity}/{segment.reference}/{segment.utterance}.txt",
    )


def test_pixel_against_normalised_needs_a_resolution() -> None:
    normalised = [seg(REF_DONE, "00001", 0, 100)]
    pixels = [_pixels(s, None) for s in normalised]
    with pytest.raises(InvalidInputError, match=r"00001\.txt: official boxes are in pixels"):
        harmonise_units(pixels, normalised)
    report = compare_segments(pixels, normalised, pixel_resolution=(1280, 720))
    assert report.parameters["box_units"] == "normalised"
    assert report.summary[Metric.MEAN_BOX_IOU] == pytest.approx(1.0)
    # A resolution recorded by the reader is used without the override.
    known = [_pixels(s, (1280, 720)) for s in normalised]
    assert compare_segments(known, normalised).summary[Metric.MEAN_BOX_IOU] == pytest.approx(1.0)
    # The wrong resolution shows up as lost box IoU, not as an error.
    wrong = compare_segments(pixels, normalised, pixel_resolution=(640, 360))
    assert wrong.summary[Metric.MEAN_BOX_IOU] < 0.5


def test_pixels_on_both_sides_compare_in_pixels() -> None:
    pixels = [_pixels(s, None) for s in (seg(REF_DONE, "1", 0, 50), seg(REF_DONE, "2", 80, 50))]
    off, _, units = harmonise_units(pixels, pixels)
    assert units is ComparisonUnits.PIXELS and off[0].boxes is pixels[0].boxes
    assert compare_segments(pixels, pixels).parameters["box_units"] == "pixels"


@pytest.mark.parametrize("text", ["1280x720", "1280X720", " 640 x 360 "])
def test_parse_resolution(text: str) -> None:
    width, height = parse_resolution(text)
    assert width in (1280, 640) and height in (720, 360)


@pytest.mark.parametrize("text", ["1280", "0x720", "axb", "1280x-1"])
def test_parse_resolution_refuses(text: str) -> None:
    with pytest.raises(InvalidInputError, match="bad resolution"):
        parse_resolution(text, "--pixel-resolution")


# --- real VoxCeleb1 metafiles -------------------------------------------------------------------


def test_real_metafiles_against_themselves(shared_metafiles: Path) -> None:
    problems: list[Problem] = []
    side = load_side(shared_metafiles / "vox1" / "txt", "official", problems)
    assert side.fmt == "vox1" and len(side.segments) == 39 and not problems
    report = compare_segments(side.segments, side.segments)
    for metric in HEADLINE_METRICS:
        assert report.summary[metric.value] == 1.0, metric
    assert report.parameters["box_units"] == "pixels"
    assert report.summary[Metric.OFFICIAL_FRAMES] == 6474
    assert report.summary[Metric.MEAN_OFFSET_DIFF] == 0.0


def test_real_metafiles_after_a_formats_round_trip(shared_metafiles: Path, tmp_path: Path) -> None:
    official = list(read_segments(shared_metafiles / "vox1" / "txt"))
    written = list(write_vox1_tree(official, tmp_path / "txt"))
    assert len(written) == 39
    problems: list[Problem] = []
    round_trip = load_side(tmp_path / "txt", "generated", problems).segments
    assert not problems
    report = compare_segments(official, round_trip)
    for metric in HEADLINE_METRICS:
        assert report.summary[metric.value] == 1.0, metric
    assert report.summary[Metric.MATCHED_SEGMENTS] == 39
    assert np.all(np.asarray(report.rows["start_diff"]) == 0)


def test_real_metafiles_against_a_damaged_copy(shared_metafiles: Path) -> None:
    official = list(read_segments(shared_metafiles / "vox1" / "txt"))
    # Drop every third segment and shift the rest by 3 frames: recall 26/39 exactly.
    kept = [s for i, s in enumerate(official) if i % 3]
    shifted = [make_segment(s.identity, s.reference, s.utterance, s.frames + 3, s.boxes,
                            box_units=s.box_units) for s in kept]
    report = compare_segments(official, shifted)
    assert report.summary[Metric.SEGMENT_RECALL] == pytest.approx(26 / 39)
    assert report.summary[Metric.SEGMENT_PRECISION] == 1.0
    starts = np.asarray(report.rows["start_diff"])
    assert set(starts[np.isfinite(starts)].tolist()) == {3.0}
