"""Constructed cases with known answers for the audit's matching and metrics."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from voxrepro.audit import Metric, compare_segments
from voxrepro.audit.geometry import (
    compute_box_iou,
    compute_tiou_matrix,
    join_on_frames,
    scale_boxes_about_centre,
)
from voxrepro.audit.match import NO_MATCH, match_greedy, match_video
from voxrepro.audit.metrics import CURVE_THRESHOLDS, HEADLINE_METRICS
from voxrepro.segment import Segment, make_segment

REF_A, REF_B, REF_C = "aaaaaaaaaaa", "bbbbbbbbbbb", "ccccccccccc"
BOX = (0.30, 0.20, 0.40, 0.70)


def seg(
    ref: str,
    utt: str,
    start: int,
    n: int,
    box: tuple[float, float, float, float] = BOX,
    identity: str = "id00001",
    offset: int | None = None,
) -> Segment:
    return make_segment(
        identity, ref, utt, np.arange(start, start + n), np.tile(box, (n, 1)), offset=offset
    )


def official_set() -> list[Segment]:
    return [
        seg(REF_A, "00001", 100, 100),
        seg(REF_A, "00002", 400, 150),
        seg(REF_A, "00003", 700, 80),
        seg(REF_B, "00001", 0, 200, identity="id00002"),
        seg(REF_B, "00002", 1000, 120, identity="id00002"),
    ]


# --- geometry ---------------------------------------------------------------------------------


def test_tiou_matrix_on_inclusive_frame_counts() -> None:
    tiou = compute_tiou_matrix(
        np.array([0, 0]), np.array([9, 9]), np.array([0, 5, 10, 9]), np.array([9, 14, 19, 9])
    )
    # identical; shifted by 5 of 10 -> 5/15; adjacent (no shared frame); one shared frame
    np.testing.assert_allclose(tiou[0], [1.0, 5 / 15, 0.0, 1 / 10])
    np.testing.assert_allclose(tiou[1], tiou[0])


def test_box_iou_known_values() -> None:
    a = np.array([[0.0, 0.0, 2.0, 2.0], [0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 1.0, 1.0]])
    b = np.array([[1.0, 1.0, 2.0, 2.0], [2.0, 2.0, 1.0, 1.0], [0.0, 0.0, 0.0, 1.0]])
    np.testing.assert_allclose(compute_box_iou(a, b), [1 / 7, 0.0, 0.0])


@pytest.mark.parametrize("factor", [0.5, 0.8, 1.25, 2.0, 3.0])
def test_box_scaled_about_centre_has_closed_form_iou(factor: float) -> None:
    boxes = np.array([[0.3, 0.2, 0.4, 0.7], [10.0, 20.0, 130.0, 130.0]])
    expected = 1 / factor**2 if factor > 1 else factor**2
    np.testing.assert_allclose(
        compute_box_iou(boxes, scale_boxes_about_centre(boxes, factor)), expected, rtol=1e-12
    )


def test_join_on_frames_is_many_to_many() -> None:
    rows_a, rows_b = join_on_frames(np.array([5, 6, 7, 9]), np.array([7, 5, 7, 8]))
    pairs = sorted(zip(rows_a.tolist(), rows_b.tolist(), strict=True))
    assert pairs == [(0, 1), (2, 0), (2, 2)]


# --- whole comparisons with exact answers -------------------------------------------------------


def test_identical_sets_score_one_everywhere() -> None:
    report = compare_segments(official_set(), official_set())
    for metric in HEADLINE_METRICS:
        assert report.summary[metric.value] == 1.0, metric
    assert report.summary[Metric.MEAN_TIOU] == 1.0
    assert report.summary[Metric.MEAN_COVERAGE] == 1.0
    assert report.summary[Metric.MEAN_ABS_START_DIFF] == 0.0
    assert report.summary[Metric.MATCHED_SEGMENTS] == 5
    assert all(c["recall"] == c["precision"] == 1.0 for c in report.curve)
    assert set(report.rows["status"]) == {"matched"}


@pytest.mark.parametrize(("n", "k"), [(100, 1), (100, 10), (150, 30), (80, 40)])
def test_boundaries_shifted_by_k_frames(n: int, k: int) -> None:
    official = [seg(REF_A, "00001", 500, n)]
    generated = [seg(REF_A, "00001", 500 + k, n)]
    report = compare_segments(official, generated, tiou_threshold=0.1)
    rows = report.rows
    assert rows["match_tiou"][0] == pytest.approx((n - k) / (n + k), rel=1e-12)
    assert rows["start_diff"][0] == k and rows["end_diff"][0] == k
    assert rows["box_iou_mean"][0] == 1.0 and rows["box_iou_min"][0] == 1.0
    assert rows["coverage"][0] == pytest.approx((n - k) / n, rel=1e-12)
    assert report.summary[Metric.FRAME_RECALL] == pytest.approx((n - k) / n, rel=1e-12)
    assert report.summary[Metric.FRAME_PRECISION] == pytest.approx((n - k) / n, rel=1e-12)
    # The curve: matched exactly at the thresholds up to (n - k) / (n + k).
    tiou = (n - k) / (n + k)
    for point in report.curve:
        assert point["recall"] == (1.0 if point["tiou"] <= tiou else 0.0), point


def test_negative_shift_gives_negative_differences() -> None:
    report = compare_segments([seg(REF_A, "00001", 500, 100)], [seg(REF_A, "x", 490, 95)])
    assert report.rows["start_diff"][0] == -10 and report.rows["end_diff"][0] == -15


@pytest.mark.parametrize(("factor", "frame_hit"), [(1.2, 1.0), (1.5, 0.0), (2.0, 0.0), (0.8, 1.0)])
def test_boxes_scaled_about_centre(factor: float, frame_hit: float) -> None:
    official = official_set()
    generated = [
        make_segment(s.identity, s.reference, s.utterance, s.frames,
                     scale_boxes_about_centre(s.boxes, factor))
        for s in official
    ]
    report = compare_segments(official, generated, box_iou_threshold=0.5)
    expected = 1 / factor**2 if factor > 1 else factor**2
    assert report.summary[Metric.MEAN_BOX_IOU] == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(report.rows["box_iou_min"], expected, rtol=1e-12)
    # Temporal matching is untouched by box size; frame hits follow IoU >= 0.5.
    assert report.summary[Metric.SEGMENT_RECALL] == 1.0
    assert report.summary[Metric.FRAME_RECALL] == frame_hit
    assert report.summary[Metric.FRAME_PRECISION] == frame_hit


def test_official_segment_split_in_two() -> None:
    official = [seg(REF_A, "00001", 0, 200)]
    generated = [seg(REF_A, "g1", 0, 120), seg(REF_A, "g2", 120, 80)]
    report = compare_segments(official, generated)
    s = report.summary
    assert s[Metric.SEGMENT_RECALL] == 1.0
    assert s[Metric.SEGMENT_PRECISION] == 0.5
    assert s[Metric.SEGMENT_F1] == pytest.approx(2 / 3)
    assert s[Metric.FRAME_RECALL] == 1.0 and s[Metric.FRAME_PRECISION] == 1.0
    rows = report.rows
    assert rows["status"] == ["matched", "extra"]
    assert rows["partner"][0] == "id00001/g1"
    assert rows["match_tiou"][0] == pytest.approx(120 / 200)
    assert (rows["start_diff"][0], rows["end_diff"][0]) == (0, -80)
    assert rows["coverage"][0] == 1.0
    assert rows["utterance"][1] == "g2" and rows["best_tiou"][1] == pytest.approx(80 / 200)
    # At tIoU >= 0.7 neither half matches.
    at_07 = next(c for c in report.curve if c["tiou"] == 0.7)
    assert at_07["recall"] == 0.0 and at_07["precision"] == 0.0


def test_missing_and_extra_segments_fractions() -> None:
    official = official_set()  # 5 segments
    generated = [*official[:3], seg(REF_A, "x1", 5000, 100), seg(REF_C, "x2", 0, 100)]
    report = compare_segments(official, generated)
    s = report.summary
    assert s[Metric.SEGMENT_RECALL] == 3 / 5
    assert s[Metric.SEGMENT_PRECISION] == 3 / 5
    assert s[Metric.MISSED_SEGMENTS] == 2 and s[Metric.EXTRA_SEGMENTS] == 2
    off_frames = 100 + 150 + 80 + 200 + 120
    assert s[Metric.FRAME_RECALL] == pytest.approx(330 / off_frames)
    assert s[Metric.FRAME_PRECISION] == pytest.approx(330 / 530)
    generated = generated[:4]
    report = compare_segments(official, generated)
    assert report.summary[Metric.SEGMENT_PRECISION] == 3 / 4
    f1 = 2 * (3 / 5) * (3 / 4) / (3 / 5 + 3 / 4)
    assert report.summary[Metric.SEGMENT_F1] == pytest.approx(f1)
    video_b = next(v for v in report.videos if v["reference"] == REF_B)
    assert (video_b["official"], video_b["matched"], video_b["missed"]) == (2, 0, 2)
    assert video_b["recall"] == 0.0


def test_merged_generated_segment_is_shared() -> None:
    official = [seg(REF_A, "00001", 0, 100), seg(REF_A, "00002", 100, 100)]
    generated = [seg(REF_A, "g", 0, 200)]
    report = compare_segments(official, generated)
    rows = report.rows
    # Equal tIoU 0.5: ties go to the lower official index.
    assert rows["status"] == ["matched", "missed"]
    assert rows["partner"] == ["id00001/g", "id00001/g"]
    assert rows["note"][1] == "partner shared"
    assert rows["best_tiou"][1] == 0.5 and rows["match_tiou"][1] == 0.0
    assert report.summary[Metric.FRAME_RECALL] == 1.0


def test_offset_difference() -> None:
    report = compare_segments(
        [seg(REF_A, "1", 0, 100, offset=2), seg(REF_A, "2", 200, 100, offset=None)],
        [seg(REF_A, "1", 0, 100, offset=-1), seg(REF_A, "2", 200, 100, offset=3)],
    )
    assert report.rows["offset_diff"][0] == -3
    assert np.isnan(report.rows["offset_diff"][1])
    assert report.summary[Metric.MEAN_OFFSET_DIFF] == -3


def test_empty_sides_follow_documented_conventions() -> None:
    both = compare_segments([], [])
    assert all(both.summary[m.value] == 1.0 for m in HEADLINE_METRICS)
    no_generated = compare_segments(official_set(), [])
    s = no_generated.summary
    assert (s["segment_recall"], s["segment_precision"], s["segment_f1"]) == (0.0, 1.0, 0.0)
    assert (s["frame_recall"], s["frame_precision"], s["mean_box_iou"]) == (0.0, 1.0, 0.0)
    no_official = compare_segments([], official_set())
    s = no_official.summary
    assert (s["segment_recall"], s["segment_precision"], s["segment_f1"]) == (1.0, 0.0, 0.0)
    assert s["frame_precision"] == 0.0 and s["mean_box_iou"] == 0.0
    for report in (both, no_generated, no_official):
        for metric in HEADLINE_METRICS:
            assert 0.0 <= report.summary[metric.value] <= 1.0


def test_generated_identity_is_ignored_for_matching() -> None:
    official = official_set()
    generated = [
        make_segment("unknown", s.reference, f"t{i}", s.frames, s.boxes)
        for i, s in enumerate(official)
    ]
    assert compare_segments(official, generated).summary["segment_f1"] == 1.0


# --- the greedy matcher against a plain reference ----------------------------------------------


def _reference_greedy(tiou: np.ndarray, threshold: float) -> int:
    """Textbook greedy at a threshold: repeatedly take the best remaining pair."""
    pairs = sorted(
        ((-tiou[i, j], i, j) for i, j in itertools.product(*map(range, tiou.shape))
         if tiou[i, j] >= threshold and tiou[i, j] > 0)
    )
    used_i: set[int] = set()
    used_j: set[int] = set()
    for _, i, j in pairs:
        if i not in used_i and j not in used_j:
            used_i.add(i)
            used_j.add(j)
    return len(used_i)


def test_one_greedy_pass_equals_greedy_at_every_threshold() -> None:
    rng = np.random.default_rng(7)
    for _ in range(200):
        n_off, n_gen = rng.integers(0, 7, size=2)
        off_first = rng.integers(0, 300, n_off)
        gen_first = rng.integers(0, 300, n_gen)
        off_last = off_first + rng.integers(0, 120, n_off)
        gen_last = gen_first + rng.integers(0, 120, n_gen)
        tiou = compute_tiou_matrix(off_first, off_last, gen_first, gen_last)
        off_partner, gen_partner = match_greedy(tiou)
        # one-to-one
        assert np.all(gen_partner[off_partner[off_partner != NO_MATCH]] == np.flatnonzero(
            off_partner != NO_MATCH))
        rows = np.flatnonzero(off_partner != NO_MATCH)
        matched_tiou = tiou[rows, off_partner[rows]]
        for t in CURVE_THRESHOLDS:
            assert int((matched_tiou >= t).sum()) == _reference_greedy(tiou, t)


def test_match_video_frame_hits_with_overlapping_generated_tracks() -> None:
    # Two generated tracks on the same frames: one with the right box, one elsewhere.
    official = [seg(REF_A, "1", 0, 50)]
    generated = [
        seg(REF_A, "other", 0, 50, box=(0.0, 0.0, 0.1, 0.1)),
        seg(REF_A, "right", 10, 40),
    ]
    match = match_video(REF_A, official, generated, 0.5)
    assert match.off_frame_hits.tolist() == [40]
    assert match.gen_frame_hits.tolist() == [0, 40]
    # Best tIoU partner is the full-length "other" track (tIoU 1) with box IoU 0.
    assert match.off_partner.tolist() == [0]
    assert match.off_box_iou_mean[0] == 0.0
