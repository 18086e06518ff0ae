"""Summary metrics and the recall/precision curve, from a MatchTable (pure numpy).

Definitions (also in the README):

* segment_recall: official segments of *available* videos with a one-to-one partner at
  tIoU >= threshold, over official segments of available videos (unavailable videos are
  counted apart, see ``availability``). 1.0 when there is no available official segment.
* segment_precision: generated segments with a one-to-one partner at tIoU >= threshold, over
  generated segments. 1.0 when there is no generated segment.
* segment_f1: 2PR / (P + R); 0.0 when P + R = 0.
* frame_recall: official frames (available videos) on which some generated segment of the
  same video has a box with IoU >= box threshold, over those frames; 1.0 when there are none.
* frame_precision: generated frames that hit an official box with IoU >= box threshold, over
  generated frames; 1.0 when there are none.
* mean_box_iou: mean over matched segments of their mean box IoU over shared frames;
  1.0 when both sides are empty, 0.0 when nothing matched otherwise.
"""

from __future__ import annotations

import enum
from typing import Any

import numpy as np

from voxrepro.audit.geometry import FloatArray
from voxrepro.audit.table import MatchTable

#: Thresholds of the recall/precision-vs-tIoU curve.
CURVE_THRESHOLDS: tuple[float, ...] = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


class Metric(enum.StrEnum):
    """Keys of ``report.json``'s ``summary`` object."""

    SEGMENT_RECALL = "segment_recall"
    SEGMENT_PRECISION = "segment_precision"
    SEGMENT_F1 = "segment_f1"
    FRAME_RECALL = "frame_recall"
    FRAME_PRECISION = "frame_precision"
    MEAN_BOX_IOU = "mean_box_iou"
    SEGMENT_RECALL_OVERALL = "segment_recall_overall"
    MEAN_TIOU = "mean_tiou"
    MEAN_COVERAGE = "mean_coverage"
    MEAN_START_DIFF = "mean_start_diff"
    MEAN_END_DIFF = "mean_end_diff"
    MEAN_ABS_START_DIFF = "mean_abs_start_diff"
    MEAN_ABS_END_DIFF = "mean_abs_end_diff"
    MEAN_OFFSET_DIFF = "mean_offset_diff"
    OFFICIAL_SEGMENTS = "official_segments"
    AVAILABLE_SEGMENTS = "available_segments"
    UNAVAILABLE_SEGMENTS = "unavailable_segments"
    GENERATED_SEGMENTS = "generated_segments"
    MATCHED_SEGMENTS = "matched_segments"
    MISSED_SEGMENTS = "missed_segments"
    EXTRA_SEGMENTS = "extra_segments"
    OFFICIAL_VIDEOS = "official_videos"
    UNAVAILABLE_VIDEOS = "unavailable_videos"
    GENERATED_VIDEOS = "generated_videos"
    OFFICIAL_FRAMES = "official_frames"
    GENERATED_FRAMES = "generated_frames"


#: The headline metrics, each always a number in [0, 1].
HEADLINE_METRICS: tuple[Metric, ...] = (
    Metric.SEGMENT_RECALL,
    Metric.SEGMENT_PRECISION,
    Metric.SEGMENT_F1,
    Metric.FRAME_RECALL,
    Metric.FRAME_PRECISION,
    Metric.MEAN_BOX_IOU,
)


def ratio(numerator: float, denominator: float, empty: float = 1.0) -> float:
    """numerator / denominator, or ``empty`` when the denominator is 0."""
    return float(numerator) / float(denominator) if denominator else float(empty)


def f1_score(precision: float, recall: float) -> float:
    total = precision + recall
    return 2.0 * precision * recall / total if total > 0 else 0.0


def _mean_or_none(values: FloatArray) -> float | None:
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if finite.shape[0] else None


def compute_curve(
    table: MatchTable, thresholds: tuple[float, ...] = CURVE_THRESHOLDS
) -> list[dict[str, float]]:
    """Segment recall, precision and F1 at each tIoU threshold (one greedy pass serves all)."""
    available = table.off_available
    n_available = int(available.sum())
    n_generated = len(table.gen_segments)
    # Sorting once turns "how many matches at tIoU >= t" into a binary search per threshold.
    off_tiou = np.sort(table.off_match_tiou[available & (table.off_match_tiou > 0)])
    gen_tiou = np.sort(table.gen_match_tiou[table.gen_match_tiou > 0])
    curve = []
    for t in thresholds:
        matched_off = off_tiou.shape[0] - int(np.searchsorted(off_tiou, t, side="left"))
        matched_gen = gen_tiou.shape[0] - int(np.searchsorted(gen_tiou, t, side="left"))
        recall = ratio(matched_off, n_available)
        precision = ratio(matched_gen, n_generated)
        curve.append(
            {"tiou": t, "recall": recall, "precision": precision, "f1": f1_score(precision, recall)}
        )
    return curve


def compute_summary(table: MatchTable, tiou_threshold: float) -> dict[str, Any]:
    """The ``summary`` object of the report (keys are ``Metric`` values)."""
    available = table.off_available
    matched_off = table.off_matched(tiou_threshold) & available
    matched_gen = table.gen_matched(tiou_threshold)
    n_official, n_available = len(table.off_segments), int(available.sum())
    n_generated, n_matched = len(table.gen_segments), int(matched_off.sum())
    recall = ratio(n_matched, n_available)
    precision = ratio(int(matched_gen.sum()), n_generated)
    both_empty = n_available == 0 and n_generated == 0
    box_iou = _mean_or_none(table.off_box_iou_mean[matched_off])
    start, end = table.off_start_diff[matched_off], table.off_end_diff[matched_off]
    unavailable_refs = [a for a in table.availability.values() if not a.available]
    return {
        Metric.SEGMENT_RECALL.value: recall,
        Metric.SEGMENT_PRECISION.value: precision,
        Metric.SEGMENT_F1.value: f1_score(precision, recall),
        Metric.FRAME_RECALL.value: ratio(
            table.off_frame_hits[available].sum(), table.off_num_frames[available].sum()
        ),
        Metric.FRAME_PRECISION.value: ratio(table.gen_frame_hits.sum(), table.gen_num_frames.sum()),
        Metric.MEAN_BOX_IOU.value: box_iou if box_iou is not None else float(both_empty),
        Metric.SEGMENT_RECALL_OVERALL.value: ratio(n_matched, n_official),
        Metric.MEAN_TIOU.value: _mean_or_none(table.off_match_tiou[matched_off]),
        Metric.MEAN_COVERAGE.value: _mean_or_none(table.off_coverage[available]),
        Metric.MEAN_START_DIFF.value: _mean_or_none(start),
        Metric.MEAN_END_DIFF.value: _mean_or_none(end),
        Metric.MEAN_ABS_START_DIFF.value: _mean_or_none(np.abs(start)),
        Metric.MEAN_ABS_END_DIFF.value: _mean_or_none(np.abs(end)),
        Metric.MEAN_OFFSET_DIFF.value: _mean_or_none(table.off_offset_diff[matched_off]),
        Metric.OFFICIAL_SEGMENTS.value: n_official,
        Metric.AVAILABLE_SEGMENTS.value: n_available,
        Metric.UNAVAILABLE_SEGMENTS.value: n_official - n_available,
        Metric.GENERATED_SEGMENTS.value: n_generated,
        Metric.MATCHED_SEGMENTS.value: n_matched,
        Metric.MISSED_SEGMENTS.value: n_available - n_matched,
        Metric.EXTRA_SEGMENTS.value: n_generated - int(matched_gen.sum()),
        Metric.OFFICIAL_VIDEOS.value: len(table.availability),
        Metric.UNAVAILABLE_VIDEOS.value: len(unavailable_refs),
        Metric.GENERATED_VIDEOS.value: int(np.unique(table.gen_video).shape[0]),
        Metric.OFFICIAL_FRAMES.value: int(table.off_num_frames[available].sum()),
        Metric.GENERATED_FRAMES.value: int(table.gen_num_frames.sum()),
    }
