"""S3FD box maths (spec §4.4–4.6): priors, decoding, both NMS stages, against hand-computed
answers and against a plain greedy loop written here as the reference."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from voxrepro.detect.nms import UnionOrder, greedy_nms, greedy_nms_sorted, sort_scores_descending
from voxrepro.detect.s3fd_box import (
    DetectParams,
    decode_boxes,
    detect_step,
    feature_map_sizes,
    final_nms,
    make_priors,
    postprocess_detections,
)

# --- the slow reference: the greedy loop exactly as the spec words it --------------------------


def reference_greedy(
    boxes: np.ndarray,
    scores: np.ndarray,
    threshold: float,
    union_order: UnionOrder,
    top_k: int | None = None,
) -> list[int]:
    """Plain greedy NMS: stable ascending sort, pop the last (highest; ties: later index),
    drop every remaining box unless IoU <= threshold. Same float type and operation order as
    the reference implementations (float32 in-net, float64 final)."""
    order = sorted(range(len(scores)), key=lambda i: scores[i])  # Python's sort is stable
    if top_k is not None:
        order = order[-top_k:]
    x1, y1, x2, y2 = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    areas = (x2 - x1) * (y2 - y1)
    keep: list[int] = []
    while order:
        i = order.pop()
        keep.append(i)
        survivors = []
        for j in order:
            w = max(min(x2[j], x2[i]) - max(x1[j], x1[i]), boxes.dtype.type(0))
            h = max(min(y2[j], y2[i]) - max(y1[j], y1[i]), boxes.dtype.type(0))
            inter = w * h
            if union_order is UnionOrder.DETECT:
                union = (areas[j] - inter) + areas[i]
            else:
                union = areas[i] + areas[j] - inter
            with np.errstate(invalid="ignore", divide="ignore"):
                iou = inter / union
            if iou <= threshold:
                survivors.append(j)
        order = survivors
    return keep


def random_boxes(rng: np.random.Generator, n: int, dtype: type = np.float32) -> np.ndarray:
    xy = rng.uniform(0, 100, size=(n, 2))
    wh = rng.uniform(0, 40, size=(n, 2))
    boxes = np.concatenate([xy, xy + wh], axis=1)
    # A few exact duplicates and zero-area boxes: the edge cases of the IoU rule.
    if n >= 6:
        boxes[1] = boxes[0]
        boxes[3, 2:] = boxes[3, :2]
        boxes[4, 2:] = boxes[4, :2]
    return boxes.astype(dtype)


# --- priors -----------------------------------------------------------------------------------


def test_feature_map_sizes_for_720p_at_quarter_scale() -> None:
    assert feature_map_sizes(180, 320) == [(45, 80), (23, 40), (11, 20), (5, 10), (3, 5), (2, 3)]


def test_priors_for_180x320_count_and_hand_values() -> None:
    priors = make_priors(180, 320)
    assert priors.dtype == torch.float32
    assert priors.shape == (45 * 80 + 23 * 40 + 11 * 20 + 5 * 10 + 3 * 5 + 2 * 3, 4) == (4811, 4)
    expected = {
        0: (0.5 / 80, 0.5 / 45, 16 / 320, 16 / 180),  # source 0, row 0, col 0
        1: (1.5 / 80, 0.5 / 45, 16 / 320, 16 / 180),  # columns run first within a row
        80: (0.5 / 80, 1.5 / 45, 16 / 320, 16 / 180),  # then the next row
        3599: (79.5 / 80, 44.5 / 45, 16 / 320, 16 / 180),  # last of source 0
        3600: (0.5 / 40, 0.5 / 22.5, 32 / 320, 32 / 180),  # source 1 (step 8)
        # source 1, row 22 (the ceil-mode row): cy reaches exactly 1.0
        3600 + 22 * 40 + 39: (39.5 / 40, 1.0, 32 / 320, 32 / 180),
        # last prior (step 128, min size 512): no clipping, centre and size beyond 1
        4810: (1.0, 1.5 / (180 / 128), 512 / 320, 512 / 180),
    }
    for index, values in expected.items():
        np.testing.assert_allclose(priors[index].numpy(), values, rtol=1e-6, err_msg=str(index))
    assert float(priors[:, 3].max()) == pytest.approx(512 / 180, rel=1e-6)  # not clipped to 1


# --- decoding -----------------------------------------------------------------------------------


def test_decode_known_answer() -> None:
    priors = torch.tensor([[0.5, 0.5, 0.2, 0.4], [0.1, 0.2, 0.1, 0.1]])
    log2_over_var = float(np.log(2.0) / 0.2)  # exp(0.2 * this) == 2
    loc = torch.tensor([[[1.0, -2.0, log2_over_var, 0.0], [0.0, 0.0, 0.0, 0.0]]])
    boxes = decode_boxes(loc, priors)
    # centre x = 0.5 + 1 * 0.1 * 0.2 = 0.52, y = 0.5 - 2 * 0.1 * 0.4 = 0.42; size (0.4, 0.4)
    np.testing.assert_allclose(boxes[0, 0].numpy(), [0.32, 0.22, 0.72, 0.62], atol=1e-6)
    # zero offsets give the prior's own corners
    np.testing.assert_allclose(boxes[0, 1].numpy(), [0.05, 0.15, 0.15, 0.25], atol=1e-7)


# --- stage 1: the in-net Detect step -------------------------------------------------------------


def _unit(x1: float, y1: float, x2: float, y2: float) -> list[float]:
    return [x1, y1, x2, y2]


def test_detect_step_known_keep_set() -> None:
    # Image 0: A kept; B overlaps A (IoU 0.82) -> out; C kept; D overlaps C (IoU 1/3 > 0.3) ->
    # out; F overlaps only D (already gone) and C at IoU 0.18 -> kept; E has score 0.04 -> never.
    boxes0 = [
        _unit(0, 0, 1, 1),  # A 0.9
        _unit(0.1, 0, 1.1, 1),  # B 0.8
        _unit(2, 2, 3, 3),  # C 0.7
        _unit(2.5, 2, 3.5, 3),  # D 0.6
        _unit(0, 2, 1, 3),  # E 0.04
        _unit(2.7, 2, 3.7, 3),  # F 0.5
    ]
    scores0 = [0.9, 0.8, 0.7, 0.6, 0.04, 0.5]
    # Image 1: the same boxes in another order and other scores: only one candidate survives
    # the 0.05 filter.
    boxes1 = boxes0[::-1]
    scores1 = [0.01, 0.02, 0.03, 0.01, 0.2, 0.01]
    boxes = torch.tensor([boxes0, boxes1], dtype=torch.float32)
    scores = torch.tensor([scores0, scores1], dtype=torch.float32)
    kept_scores, kept_boxes = detect_step(boxes, scores)
    assert kept_scores.shape == (2, 3) and kept_boxes.shape == (2, 3, 4)
    np.testing.assert_allclose(kept_scores[0].numpy(), [0.9, 0.7, 0.5])
    np.testing.assert_allclose(kept_boxes[0].numpy(), [boxes0[0], boxes0[2], boxes0[5]])
    # Unused slots are zero rows, like the reference's zero-filled output.
    np.testing.assert_allclose(kept_scores[1].numpy(), [0.2, 0.0, 0.0])
    np.testing.assert_allclose(kept_boxes[1, 0].numpy(), boxes1[4])
    assert not kept_boxes[1, 1:].any()


def test_detect_step_without_candidates_gives_empty_rows() -> None:
    kept_scores, kept_boxes = detect_step(torch.rand(2, 10, 4), torch.full((2, 10), 0.05))
    assert kept_scores.shape == (2, 0) and kept_boxes.shape == (2, 0, 4)  # 0.05 is not > 0.05
    out = postprocess_detections(kept_scores, kept_boxes, [(10, 10), (10, 10)])
    assert [o.shape for o in out] == [(0, 5), (0, 5)]


def test_detect_step_caps_candidates_and_kept_boxes() -> None:
    # Ten disjoint boxes: NMS removes nothing, so the caps alone decide.
    boxes = torch.tensor([[[3.0 * i, 0, 3.0 * i + 1, 1] for i in range(10)]])
    scores = torch.linspace(0.95, 0.5, 10)[None]
    top4 = detect_step(boxes, scores, DetectParams(candidate_top_k=4))[0]
    np.testing.assert_allclose(top4[0].numpy(), scores[0, :4].numpy())
    keep3 = detect_step(boxes, scores, DetectParams(keep_top_k=3))[0]
    np.testing.assert_allclose(keep3[0].numpy(), scores[0, :3].numpy())


@pytest.mark.parametrize("seed", range(4))
def test_detect_step_matches_plain_greedy_on_random_batches(seed: int) -> None:
    rng = np.random.default_rng(seed)
    batch, count = 3, 300
    boxes = np.stack([random_boxes(rng, count) / 100 for _ in range(batch)]).astype(np.float32)
    # Quantised scores make many exact ties; some fall below the 0.05 candidate threshold.
    scores = (rng.integers(0, 40, size=(batch, count)) / 40).astype(np.float32)
    params = DetectParams(candidate_top_k=250, keep_top_k=60)
    kept_scores, kept_boxes = detect_step(torch.from_numpy(boxes), torch.from_numpy(scores), params)
    for b in range(batch):
        candidates = np.flatnonzero(scores[b] > params.candidate_score)
        keep = reference_greedy(
            boxes[b, candidates], scores[b, candidates], params.nms_iou, UnionOrder.DETECT, 250
        )[: params.keep_top_k]
        n = len(keep)
        np.testing.assert_array_equal(kept_boxes[b, :n].numpy(), boxes[b, candidates][keep])
        np.testing.assert_array_equal(kept_scores[b, :n].numpy(), scores[b, candidates][keep])
        assert not kept_scores[b, n:].any()


def test_early_stop_is_exact_above_the_stop_score() -> None:
    rng = np.random.default_rng(7)
    boxes = torch.from_numpy(random_boxes(rng, 400)[None] / 100)
    scores = torch.from_numpy(rng.uniform(0, 1, size=(1, 400)).astype(np.float32))
    full_scores, full_boxes = detect_step(boxes, scores)
    fast_scores, fast_boxes = detect_step(boxes, scores, stop_at_or_below=0.9)
    above = full_scores[0] > 0.9
    n = int(above.sum())
    assert n > 0
    np.testing.assert_array_equal(fast_scores[0, :n].numpy(), full_scores[0, above].numpy())
    np.testing.assert_array_equal(fast_boxes[0, :n].numpy(), full_boxes[0, above].numpy())
    assert not (fast_scores[0, n:] > 0).any()


# --- the generic NMS against the reference ------------------------------------------------


@pytest.mark.parametrize("union_order", list(UnionOrder))
@pytest.mark.parametrize("threshold", [0.1, 0.3, 0.5])
@pytest.mark.parametrize("seed", range(5))
def test_greedy_nms_matches_plain_greedy(
    union_order: UnionOrder, threshold: float, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    dtype = np.float32 if union_order is UnionOrder.DETECT else np.float64
    boxes = random_boxes(rng, 120, dtype)
    scores = (rng.integers(0, 12, size=120) / 12).astype(dtype)  # heavy ties
    keep = greedy_nms(torch.from_numpy(boxes), torch.from_numpy(scores), threshold, union_order)
    assert keep.tolist() == reference_greedy(boxes, scores, threshold, union_order)


def test_batched_nms_with_padding_equals_per_image() -> None:
    rng = np.random.default_rng(11)
    sizes = [50, 0, 17]
    width = max(sizes)
    boxes = np.zeros((3, width, 4), dtype=np.float32)
    valid = np.zeros((3, width), dtype=bool)
    per_image = []
    for b, n in enumerate(sizes):
        image_boxes = random_boxes(rng, n)
        image_scores = rng.uniform(0, 1, n).astype(np.float32)
        order = sort_scores_descending(torch.from_numpy(image_scores)).numpy()
        boxes[b, :n] = image_boxes[order]
        valid[b, :n] = True
        per_image.append(reference_greedy(image_boxes, image_scores, 0.3, UnionOrder.DETECT))
        per_image[-1] = [int(np.flatnonzero(order == i)[0]) for i in per_image[-1]]
    keep = greedy_nms_sorted(
        torch.from_numpy(boxes), torch.from_numpy(valid), 0.3, UnionOrder.DETECT
    )
    for b in range(3):
        row = keep[b][keep[b] >= 0].tolist()
        assert row == per_image[b]


def test_ties_take_the_later_index_first() -> None:
    # Two identical boxes with equal scores: the reference pops the later one.
    boxes = torch.tensor([[0.0, 0, 10, 10], [0.0, 0, 10, 10]])
    assert greedy_nms(boxes, torch.tensor([0.5, 0.5]), 0.3).tolist() == [1]


# --- stage 2: post-filter and final NMS ---------------------------------------------------


def test_final_nms_known_keep_set() -> None:
    rows = np.array(
        [
            [80, 0, 180, 100, 0.97],  # IoU 0.111 with A -> suppressed
            [0, 0, 100, 100, 0.99],  # A
            [90, 0, 190, 100, 0.98],  # IoU 0.0526 with A -> kept (<= 0.1)
            [500, 500, 520, 530, 0.5],  # far away -> kept
        ],
        dtype=np.float64,
    )
    out = final_nms(rows, 0.1)
    np.testing.assert_array_equal(out, rows[[1, 2, 3]])
    assert final_nms(np.zeros((0, 5))).shape == (0, 5)


def test_postprocess_filters_scales_to_original_pixels_and_runs_final_nms() -> None:
    kept_scores = torch.tensor([[0.97, 0.95, 0.93, 0.5, 0.0]])
    kept_boxes = torch.tensor(
        [
            [
                [0.1, 0.2, 0.3, 0.6],
                [0.11, 0.2, 0.31, 0.6],  # same face, IoU > 0.1 -> removed by the final NMS
                [-0.05, 0.5, 0.2, 1.2],  # partly outside the frame: not clipped
                [0.6, 0.6, 0.9, 0.9],  # score 0.5 <= conf_th 0.9
                [0.0, 0.0, 0.0, 0.0],
            ]
        ]
    )
    (out,) = postprocess_detections(kept_scores, kept_boxes, [(720, 1280)])
    assert out.dtype == np.float64 and out.shape == (2, 5)
    expected = [
        [0.1 * 1280, 0.2 * 720, 0.3 * 1280, 0.6 * 720, 0.97],
        [-0.05 * 1280, 0.5 * 720, 0.2 * 1280, 1.2 * 720, 0.93],
    ]
    np.testing.assert_allclose(out, expected, rtol=1e-6)
    (none,) = postprocess_detections(kept_scores * 0.5, kept_boxes, [(720, 1280)])
    assert none.shape == (0, 5)
