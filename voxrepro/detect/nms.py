"""Greedy non-maximum suppression, vectorised in torch and batched over images.

Both S3FD NMS stages (spec §4.5 in-net at IoU 0.3, §4.6 final at IoU 0.1) are the classic greedy
rule: walk boxes by descending score, keep a box unless its IoU with an already kept box is above
the threshold. The reference code loops over boxes in Python; here each step of the loop handles
one *kept* box for every image of the batch at once, and suppresses with one vectorised IoU row,
so the Python-level iteration count is the number of kept boxes (capped by ``max_keep``), not the
number of candidates. The keep set is identical to the plain greedy loop (tested against one).

Parity details that change numbers and are therefore replicated:

- ties in score are ordered higher input index first (the reference sorts ascending with a
  stable sort and pops from the end);
- areas are (x2 - x1) * (y2 - y1), no +1;
- the union is summed in the reference's order (``UnionOrder``), so IoUs equal to the threshold
  in float arithmetic fall on the same side;
- a pair whose IoU is NaN (two zero-area boxes) counts as suppressed, like ``not (iou <= t)``.
"""

from __future__ import annotations

import enum

import torch


class UnionOrder(enum.Enum):
    """How the union is summed: the two reference NMS functions differ (float rounding)."""

    #: In-net NMS (torch, float32): (area_j - inter) + area_i.
    DETECT = "detect"
    #: Final NMS (numpy, float64): area_i + area_j - inter.
    FINAL = "final"


def sort_scores_descending(scores: torch.Tensor) -> torch.Tensor:
    """Indices ordering ``scores`` (..., M) by descending score, ties by higher index first."""
    flipped = torch.flip(scores, dims=(-1,))
    order = torch.sort(flipped, dim=-1, descending=True, stable=True).indices
    return scores.shape[-1] - 1 - order


def box_areas(boxes: torch.Tensor) -> torch.Tensor:
    """(..., 4) x1, y1, x2, y2 -> (...) areas (x2 - x1) * (y2 - y1), no +1, not clamped."""
    return (boxes[..., 2] - boxes[..., 0]) * (boxes[..., 3] - boxes[..., 1])


def iou_with(
    box: torch.Tensor,
    box_area: torch.Tensor,
    boxes: torch.Tensor,
    areas: torch.Tensor,
    union_order: UnionOrder,
) -> torch.Tensor:
    """IoU of one box per image (B, 4) with every box of that image (B, M, 4) -> (B, M)."""
    xx1 = torch.maximum(boxes[..., 0], box[:, None, 0])
    yy1 = torch.maximum(boxes[..., 1], box[:, None, 1])
    xx2 = torch.minimum(boxes[..., 2], box[:, None, 2])
    yy2 = torch.minimum(boxes[..., 3], box[:, None, 3])
    inter = (xx2 - xx1).clamp(min=0.0) * (yy2 - yy1).clamp(min=0.0)
    if union_order is UnionOrder.DETECT:
        union = (areas - inter) + box_area[:, None]
    else:
        union = (box_area[:, None] + areas) - inter
    return inter / union


def greedy_nms_sorted(
    boxes: torch.Tensor,
    valid: torch.Tensor,
    iou_threshold: float,
    union_order: UnionOrder,
    max_keep: int | None = None,
    scores: torch.Tensor | None = None,
    stop_at_or_below: float | None = None,
) -> torch.Tensor:
    """Greedy NMS over boxes already sorted by descending score, batched over images.

    Args:
        boxes: (B, M, 4) x1, y1, x2, y2 (any unit), row order = descending score.
        valid: (B, M) bool; False rows (padding) are never kept and suppress nothing.
        iou_threshold: a box whose IoU with a kept box is > this (or NaN) is suppressed.
        union_order: which reference's float order to use for the union.
        max_keep: stop after this many kept boxes per image (the reference's top_k cut).
        scores: (B, M) sorted scores; needed only with ``stop_at_or_below``.
        stop_at_or_below: stop an image once its next candidate's score is <= this. Exact for
            every kept box above the value (greedy never lets a lower box affect a higher one);
            the S3FD detector uses it with conf_th, since lower boxes are discarded anyway.

    Returns:
        (B, K) int64 positions into M of the kept boxes in keep order, padded with -1; K is the
        largest number kept in any image.
    """
    batch, count = valid.shape
    limit = count if max_keep is None else min(max_keep, count)
    keep = torch.full((batch, max(limit, 0)), -1, dtype=torch.long, device=boxes.device)
    if limit <= 0 or count == 0:
        return keep
    alive = valid.clone()
    if stop_at_or_below is not None:
        if scores is None:
            raise ValueError("stop_at_or_below needs scores")
        alive &= scores > stop_at_or_below  # sorted, so this only trims each image's tail
    areas = box_areas(boxes)
    rows = torch.arange(batch, device=boxes.device)
    for k in range(limit):
        has_box = alive.any(dim=1)
        if not bool(has_box.any()):
            break
        first = alive.to(torch.uint8).argmax(dim=1)  # first alive = highest remaining score
        keep[:, k] = torch.where(has_box, first, -1)
        iou = iou_with(boxes[rows, first], areas[rows, first], boxes, areas, union_order)
        # Suppress unless iou <= t (NaN counts as overlap); rows without a box stay untouched.
        suppress = ~(iou <= iou_threshold) & has_box[:, None]
        alive &= ~suppress
        alive[rows, first] = False
    used = int((keep >= 0).sum(dim=1).max()) if batch else 0
    return keep[:, :used]


def greedy_nms(
    boxes: torch.Tensor,
    scores: torch.Tensor,
    iou_threshold: float,
    union_order: UnionOrder = UnionOrder.FINAL,
    max_keep: int | None = None,
) -> torch.Tensor:
    """Greedy NMS for one image: (N, 4) boxes, (N,) scores -> kept input indices in keep order."""
    if boxes.shape[0] == 0:
        return torch.zeros(0, dtype=torch.long, device=boxes.device)
    order = sort_scores_descending(scores)
    valid = torch.ones(1, boxes.shape[0], dtype=torch.bool, device=boxes.device)
    kept = greedy_nms_sorted(boxes[order][None], valid, iou_threshold, union_order, max_keep)[0]
    return order[kept[kept >= 0]]
