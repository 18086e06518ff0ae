"""S3FD box maths: priors, decoding, the in-net Detect step and the post-filter (spec §4.4–4.6).

Pure torch/numpy functions with no I/O. Units: priors and decoded boxes are normalised to the
*scaled* network input (0..1, not clipped); ``postprocess_detections`` multiplies by the ORIGINAL
frame size, which maps straight back to original pixels because the scale is the same on both
axes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from voxrepro.detect.base import FINAL_NMS_IOU, Detections, empty_detections
from voxrepro.detect.nms import UnionOrder, greedy_nms_sorted, sort_scores_descending

STEPS = (4, 8, 16, 32, 64, 128)
MIN_SIZES = (16, 32, 64, 128, 256, 512)
VARIANCES = (0.1, 0.2)


@dataclass(frozen=True)
class DetectParams:
    """Thresholds of the S3FD Detect step and post-filter (defaults = spec §12)."""

    #: §4.5: candidates need a face score > this.
    candidate_score: float = 0.05
    #: §4.5: at most this many candidates (highest scores) enter NMS.
    candidate_top_k: int = 5000
    #: §4.5: in-net greedy NMS threshold.
    nms_iou: float = 0.3
    #: §4.5: at most this many boxes leave the Detect step.
    keep_top_k: int = 750
    #: §4.6: a detection needs a score > this.
    conf_th: float = 0.9
    #: §4.6: final greedy NMS threshold.
    final_nms_iou: float = FINAL_NMS_IOU


DEFAULT_PARAMS = DetectParams()


def feature_map_sizes(height: int, width: int) -> list[tuple[int, int]]:
    """The six (fh, fw) source-map sizes S3FDNet gives for a (height, width) input.

    Two floor pools (stride 4), a ceil pool (8), two floor pools (16, 32), then two stride-2
    3x3 pad-1 convs, which round up (64, 128).
    """
    sizes: list[tuple[int, int]] = []
    h, w = height // 2 // 2, width // 2 // 2
    sizes.append((h, w))
    h, w = math.ceil(h / 2), math.ceil(w / 2)
    sizes.append((h, w))
    for _ in range(2):
        h, w = h // 2, w // 2
        sizes.append((h, w))
    for _ in range(2):
        h, w = (h - 1) // 2 + 1, (w - 1) // 2 + 1
        sizes.append((h, w))
    return sizes


def make_priors(
    height: int, width: int, sizes: list[tuple[int, int]] | None = None
) -> torch.Tensor:
    """Prior boxes (P, 4) float32 as cx, cy, w, h normalised to the scaled input (spec §4.4).

    For each source k and each (row i, column j), rows first: cx = (j + 0.5) / (width / step_k),
    cy = (i + 0.5) / (height / step_k), w = min_size_k / width, h = min_size_k / height. Computed
    in float64 then cast, as the reference builds them in Python floats. Not clipped.
    """
    sizes = feature_map_sizes(height, width) if sizes is None else sizes
    parts: list[np.ndarray] = []
    for (fh, fw), step, min_size in zip(sizes, STEPS, MIN_SIZES, strict=True):
        rows, cols = np.meshgrid(np.arange(fh), np.arange(fw), indexing="ij")
        block = np.empty((fh * fw, 4), dtype=np.float64)
        block[:, 0] = (cols.ravel() + 0.5) / (width / step)
        block[:, 1] = (rows.ravel() + 0.5) / (height / step)
        block[:, 2] = min_size / width
        block[:, 3] = min_size / height
        parts.append(block)
    return torch.from_numpy(np.concatenate(parts).astype(np.float32))


def decode_boxes(loc: torch.Tensor, priors: torch.Tensor) -> torch.Tensor:
    """Offsets (..., P, 4) + priors (P, 4) cx, cy, w, h -> boxes (..., P, 4) x1, y1, x2, y2.

    centre = prior_c + loc_xy * 0.1 * prior_wh; size = prior_wh * exp(loc_wh * 0.2); then
    x1y1 = centre - size / 2 and x2y2 = x1y1 + size (this order, as the reference: it rounds
    differently from centre + size / 2).
    """
    centre = priors[..., :2] + loc[..., :2] * VARIANCES[0] * priors[..., 2:]
    size = priors[..., 2:] * torch.exp(loc[..., 2:] * VARIANCES[1])
    top_left = centre - size / 2
    return torch.cat((top_left, size + top_left), dim=-1)


def face_scores(conf_logits: torch.Tensor) -> torch.Tensor:
    """(B, P, 2) logits -> (B, P) face probability (softmax over the 2 classes, class 1)."""
    return torch.softmax(conf_logits.float(), dim=-1)[..., 1]


def detect_step(
    boxes: torch.Tensor,
    scores: torch.Tensor,
    params: DetectParams = DEFAULT_PARAMS,
    stop_at_or_below: float | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The in-net Detect step for a batch (spec §4.5), vectorised.

    Keep scores > 0.05, take the top 5000, greedy NMS at IoU 0.3, keep at most 750.

    Args:
        boxes: (B, P, 4) decoded boxes, normalised.
        scores: (B, P) face scores.
        params: thresholds.
        stop_at_or_below: optional early stop (see ``greedy_nms_sorted``); exact above it.

    Returns:
        kept_scores (B, K) and kept_boxes (B, K, 4) in descending score order, where K (<=
        ``keep_top_k``) is the most any image kept; unused slots hold score 0 and box 0 (like
        the reference's zero-filled 750 rows).
    """
    batch = scores.shape[0]
    order = sort_scores_descending(scores)
    top = min(params.candidate_top_k, scores.shape[1])
    order = order[:, :top]
    sorted_scores = torch.gather(scores, 1, order)
    valid = sorted_scores > params.candidate_score
    # Trim the padding columns no image needs (sorted, so valid is a prefix per row).
    width = int(valid.sum(dim=1).max()) if batch else 0
    order, sorted_scores, valid = order[:, :width], sorted_scores[:, :width], valid[:, :width]
    sorted_boxes = torch.gather(boxes, 1, order[..., None].expand(-1, -1, 4))
    keep = greedy_nms_sorted(
        sorted_boxes,
        valid,
        params.nms_iou,
        UnionOrder.DETECT,
        max_keep=params.keep_top_k,
        scores=sorted_scores,
        stop_at_or_below=stop_at_or_below,
    )
    kept = keep >= 0
    index = keep.clamp(min=0)
    out_scores = torch.where(kept, torch.gather(sorted_scores, 1, index), 0.0)
    out_boxes = torch.gather(sorted_boxes, 1, index[..., None].expand(-1, -1, 4))
    out_boxes = torch.where(kept[..., None], out_boxes, 0.0)
    return out_scores, out_boxes


def postprocess_detections(
    kept_scores: torch.Tensor,
    kept_boxes: torch.Tensor,
    frame_sizes: list[tuple[int, int]],
    params: DetectParams = DEFAULT_PARAMS,
) -> list[Detections]:
    """Spec §4.6 for each image: scores > conf_th, boxes x [W, H, W, H], final NMS at 0.1.

    Args:
        kept_scores: (B, K) output of ``detect_step``.
        kept_boxes: (B, K, 4) normalised boxes.
        frame_sizes: (height, width) of each ORIGINAL frame, in pixels.
        params: thresholds.

    Returns:
        Per image a (N, 5) float64 array x1, y1, x2, y2 (original pixels, not clipped), score,
        in descending score order.
    """
    scores_cpu = kept_scores.detach().float().cpu()
    boxes_cpu = kept_boxes.detach().float().cpu()
    results: list[Detections] = []
    for b, (height, width) in enumerate(frame_sizes):
        mask = scores_cpu[b] > params.conf_th
        if not bool(mask.any()):
            results.append(empty_detections())
            continue
        # float32 product as in the reference, then float64 rows for the final NMS.
        scale = torch.tensor([width, height, width, height], dtype=torch.float32)
        pixels = (boxes_cpu[b][mask] * scale).double()
        rows = torch.cat((pixels, scores_cpu[b][mask].double()[:, None]), dim=1)
        results.append(final_nms(rows.numpy(), params.final_nms_iou))
    return results


def final_nms(rows: np.ndarray, iou_threshold: float = FINAL_NMS_IOU) -> Detections:
    """Greedy NMS over (N, 5) x1, y1, x2, y2, score rows (float64); returns kept rows sorted."""
    rows = np.asarray(rows, dtype=np.float64).reshape(-1, 5)
    if rows.shape[0] == 0:
        return empty_detections()
    tensor = torch.from_numpy(rows)
    order = sort_scores_descending(tensor[:, 4])
    valid = torch.ones(1, rows.shape[0], dtype=torch.bool)
    keep = greedy_nms_sorted(tensor[order][None, :, :4], valid, iou_threshold, UnionOrder.FINAL)[0]
    return rows[order[keep[keep >= 0]].numpy()]
