"""Per-video matching of official and generated segments (pure numpy, no I/O).

Matching rule (documented in the README): within one source video (reference), every pair of
official and generated segments gets a temporal IoU (see ``geometry``). Pairs are visited in
descending tIoU (ties: lower official index, then lower generated index) and a pair is accepted
when neither segment is taken yet: **one-to-one greedy matching**. Because the visiting order
does not depend on the threshold, matching at threshold t is exactly the accepted pairs with
tIoU >= t, so one greedy pass gives the whole recall/precision curve.

Each official segment's detail columns (boundary and box differences) describe its *partner*:
its one-to-one partner when it has one at any overlap, else its best-overlapping generated
segment (then shared with another official segment), else nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from voxrepro.audit.geometry import (
    BoolArray,
    FloatArray,
    IntArray,
    compute_box_iou,
    compute_tiou_matrix,
    join_on_frames,
)
from voxrepro.segment import Segment

NO_MATCH = -1


@dataclass(slots=True)
class VideoMatch:
    """Matching results of one reference. Official arrays are (n_off,), generated (n_gen,).

    Frame differences are generated minus official, in 25 fps frames; NaN when there is no
    partner. Box IoU is over the frames both segments have; NaN when they share none.
    """

    reference: str
    off_partner: IntArray  # index of the partner generated segment, NO_MATCH when none
    off_partner_shared: BoolArray  # partner is another official segment's one-to-one partner
    off_best_tiou: FloatArray  # best tIoU with any generated segment (0 when none overlaps)
    off_match_tiou: FloatArray  # tIoU with the one-to-one partner (0 when none)
    off_start_diff: FloatArray
    off_end_diff: FloatArray
    off_box_iou_mean: FloatArray
    off_box_iou_min: FloatArray
    off_offset_diff: FloatArray
    off_coverage: FloatArray  # fraction of its frames present in any generated segment
    off_num_frames: IntArray
    off_frame_hits: IntArray  # frames with a generated box of IoU >= box threshold
    gen_best_tiou: FloatArray
    gen_match_tiou: FloatArray
    gen_partner: IntArray  # one-to-one partner official index, NO_MATCH when none
    gen_num_frames: IntArray
    gen_frame_hits: IntArray  # frames that hit an official box with IoU >= box threshold


def match_greedy(tiou: FloatArray) -> tuple[IntArray, IntArray]:
    """One-to-one greedy matching of a (n_off, n_gen) tIoU matrix over pairs with tIoU > 0.

    Returns:
        (off_partner, gen_partner): partner index per row / column, NO_MATCH when none.
    """
    n_off, n_gen = tiou.shape
    off_partner = np.full(n_off, NO_MATCH, dtype=np.int64)
    gen_partner = np.full(n_gen, NO_MATCH, dtype=np.int64)
    flat = tiou.ravel()
    candidates = np.flatnonzero(flat > 0)
    if candidates.shape[0] == 0:
        return off_partner, gen_partner
    # Stable sort on -tIoU keeps row-major order (official, then generated index) among ties.
    order = candidates[np.argsort(-flat[candidates], kind="stable")]
    remaining = min(n_off, n_gen)
    for pair in order.tolist():
        i, j = divmod(pair, n_gen)
        if off_partner[i] == NO_MATCH and gen_partner[j] == NO_MATCH:
            off_partner[i] = j
            gen_partner[j] = i
            remaining -= 1
            if remaining == 0:
                break
    return off_partner, gen_partner


def _concat_rows(segments: Sequence[Segment]) -> tuple[IntArray, FloatArray, IntArray]:
    lengths = np.fromiter((s.frames.shape[0] for s in segments), np.int64, len(segments))
    if not segments:
        return np.zeros(0, np.int64), np.zeros((0, 4)), lengths
    frames = np.concatenate([s.frames for s in segments])
    boxes = np.concatenate([s.boxes for s in segments])
    return frames, boxes, lengths


def _per_segment(segment_of_row: IntArray, values: np.ndarray, count: int) -> FloatArray:
    """Sum of per-row ``values`` for each segment."""
    return np.bincount(segment_of_row, weights=values, minlength=count)[:count]


def _offsets(segments: Sequence[Segment]) -> FloatArray:
    """SyncNet offsets in frames, NaN where a segment has none."""
    return np.array(
        [np.nan if s.offset is None else float(s.offset) for s in segments], dtype=np.float64
    )


def match_video(
    reference: str,
    official: Sequence[Segment],
    generated: Sequence[Segment],
    box_iou_threshold: float,
) -> VideoMatch:
    """Match the segments of one source video and measure every official segment.

    Args:
        reference: the video id (for the result only).
        official: official segments of this reference (boxes in the comparison units).
        generated: generated segments of this reference (same units as ``official``).
        box_iou_threshold: a frame counts as hit when box IoU >= this.

    Returns:
        A VideoMatch with one entry per official and per generated segment.
    """
    n_off, n_gen = len(official), len(generated)
    off_first = np.fromiter((s.first_frame for s in official), np.int64, n_off)
    off_last = np.fromiter((s.last_frame for s in official), np.int64, n_off)
    gen_first = np.fromiter((s.first_frame for s in generated), np.int64, n_gen)
    gen_last = np.fromiter((s.last_frame for s in generated), np.int64, n_gen)
    tiou = compute_tiou_matrix(off_first, off_last, gen_first, gen_last)
    off_partner, gen_partner = match_greedy(tiou)

    has_partner = off_partner != NO_MATCH
    off_match_tiou = np.zeros(n_off)
    off_match_tiou[has_partner] = tiou[np.flatnonzero(has_partner), off_partner[has_partner]]
    gen_has = gen_partner != NO_MATCH
    gen_match_tiou = np.zeros(n_gen)
    gen_match_tiou[gen_has] = tiou[gen_partner[gen_has], np.flatnonzero(gen_has)]
    if n_off and n_gen:
        off_best_tiou, gen_best_tiou = tiou.max(axis=1), tiou.max(axis=0)
        best = tiou.argmax(axis=1)
    else:
        off_best_tiou, gen_best_tiou = np.zeros(n_off), np.zeros(n_gen)
        best = np.full(n_off, NO_MATCH, dtype=np.int64)
    shared = ~has_partner & (off_best_tiou > 0)
    partner = np.where(has_partner, off_partner, np.where(shared, best, NO_MATCH))

    off_frames, off_boxes, off_lengths = _concat_rows(official)
    gen_frames, gen_boxes, gen_lengths = _concat_rows(generated)
    off_seg_of_row = np.repeat(np.arange(n_off), off_lengths)
    gen_seg_of_row = np.repeat(np.arange(n_gen), gen_lengths)

    # Every official frame row beside every generated row on the same frame: gives coverage,
    # the frame hits and, restricted to each official segment's partner, its box IoU.
    pair_off, pair_gen = join_on_frames(off_frames, gen_frames)
    covered = np.zeros(off_frames.shape[0])
    covered[pair_off] = 1.0
    coverage = _per_segment(off_seg_of_row, covered, n_off) / np.maximum(off_lengths, 1)
    ious = compute_box_iou(off_boxes[pair_off], gen_boxes[pair_gen])
    hit = ious >= box_iou_threshold
    off_hit_rows = np.zeros(off_frames.shape[0], dtype=bool)
    off_hit_rows[pair_off[hit]] = True
    gen_hit_rows = np.zeros(gen_frames.shape[0], dtype=bool)
    gen_hit_rows[pair_gen[hit]] = True

    pair_off_seg = off_seg_of_row[pair_off]
    with_partner = partner[pair_off_seg] == gen_seg_of_row[pair_gen]
    partner_seg, partner_iou = pair_off_seg[with_partner], ious[with_partner]
    shared_frames = np.bincount(partner_seg, minlength=n_off)
    box_sum = np.bincount(partner_seg, weights=partner_iou, minlength=n_off)
    box_min = np.full(n_off, np.inf)
    np.minimum.at(box_min, partner_seg, partner_iou)
    no_shared = shared_frames == 0
    box_mean = np.where(no_shared, np.nan, box_sum / np.maximum(shared_frames, 1))
    box_min[no_shared] = np.nan

    no_partner = partner == NO_MATCH
    if n_gen:
        safe = np.where(no_partner, 0, partner)
        start_diff = np.where(no_partner, np.nan, gen_first[safe] - off_first)
        end_diff = np.where(no_partner, np.nan, gen_last[safe] - off_last)
        offset_diff = np.where(no_partner, np.nan, _offsets(generated)[safe] - _offsets(official))
    else:
        start_diff, end_diff, offset_diff = (np.full(n_off, np.nan) for _ in range(3))

    return VideoMatch(
        reference=reference,
        off_partner=partner.astype(np.int64),
        off_partner_shared=shared,
        off_best_tiou=off_best_tiou,
        off_match_tiou=off_match_tiou,
        off_start_diff=start_diff.astype(np.float64),
        off_end_diff=end_diff.astype(np.float64),
        off_box_iou_mean=box_mean,
        off_box_iou_min=box_min,
        off_offset_diff=offset_diff.astype(np.float64),
        off_coverage=coverage,
        off_num_frames=off_lengths,
        off_frame_hits=_per_segment(off_seg_of_row, off_hit_rows, n_off).astype(np.int64),
        gen_best_tiou=gen_best_tiou,
        gen_match_tiou=gen_match_tiou,
        gen_partner=gen_partner,
        gen_num_frames=gen_lengths,
        gen_frame_hits=_per_segment(gen_seg_of_row, gen_hit_rows, n_gen).astype(np.int64),
    )
