"""The batched S3FD detector end to end on a random-init network (no claim about accuracy: the
official weights cannot be downloaded here). It is checked against a literal, one-frame,
loop-based rendering of spec §4.1–4.6 written in this file."""

from __future__ import annotations

import itertools

import cv2
import numpy as np
import pytest
import torch
from test_s3fd_box import reference_greedy

from voxrepro.detect.nms import UnionOrder
from voxrepro.detect.s3fd import S3FDDetector, ShrunkFrame, resolve_device, scaled_size
from voxrepro.detect.s3fd_box import DetectParams
from voxrepro.detect.s3fd_net import S3FDNet
from voxrepro.errors import InvalidInputError, ModelError

# A random-init net scores everything around 0.3-0.7: lower conf_th so that boxes come out.
PARAMS = DetectParams(conf_th=0.6)


@pytest.fixture(scope="module")
def net() -> S3FDNet:
    torch.manual_seed(0)
    return S3FDNet().eval()


@pytest.fixture(scope="module")
def frames() -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    # 720p noise is too large for a quick CPU test; 240x424 still has odd scaled sizes (60x106).
    return [rng.integers(0, 256, size=(240, 424, 3), dtype=np.uint8) for _ in range(3)]


def spec_reference(net: S3FDNet, bgr: np.ndarray, params: DetectParams) -> np.ndarray:
    """Spec §4 written out literally for one frame, loops and all."""
    height, width = bgr.shape[:2]
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    small = cv2.resize(rgb, dsize=(0, 0), fx=0.25, fy=0.25, interpolation=cv2.INTER_LINEAR)
    x = small.transpose(2, 0, 1).astype(np.float32)
    x -= np.array([123, 117, 104], dtype=np.float32)[:, None, None]
    with torch.inference_mode():
        loc, conf, sizes = net(torch.from_numpy(x)[None])
    imh, imw = small.shape[:2]
    priors = []
    for k, (fh, fw) in enumerate(sizes):
        step, min_size = (4, 8, 16, 32, 64, 128)[k], (16, 32, 64, 128, 256, 512)[k]
        for i, j in itertools.product(range(fh), range(fw)):
            priors.append([(j + 0.5) / (imw / step), (i + 0.5) / (imh / step)])
            priors[-1] += [min_size / imw, min_size / imh]
    p = torch.tensor(priors, dtype=torch.float32)
    loc = loc[0]
    centre = p[:, :2] + loc[:, :2] * 0.1 * p[:, 2:]
    size = p[:, 2:] * torch.exp(loc[:, 2:] * 0.2)
    boxes = torch.cat((centre - size / 2, centre - size / 2 + size), 1).numpy()
    scores = torch.softmax(conf[0], dim=-1)[:, 1].numpy()
    mask = scores > params.candidate_score
    cand_boxes, cand_scores = boxes[mask], scores[mask]
    keep = reference_greedy(cand_boxes, cand_scores, params.nms_iou, UnionOrder.DETECT, 5000)
    keep = keep[:750]
    rows = []
    for index in keep:
        if cand_scores[index] <= params.conf_th:
            break
        scaled = cand_boxes[index] * np.array([width, height, width, height], dtype=np.float32)
        rows.append([*scaled.astype(np.float64), float(cand_scores[index])])
    rows_arr = np.array(rows, dtype=np.float64).reshape(-1, 5)
    final = reference_greedy(rows_arr[:, :4], rows_arr[:, 4], 0.1, UnionOrder.FINAL)
    return rows_arr[final]


def test_preprocessing_is_exactly_spec_4_2(net: S3FDNet, frames: list[np.ndarray]) -> None:
    detector = S3FDDetector(net=net, device="cpu")
    x = detector.preprocess(frames[:2])
    for b, bgr in enumerate(frames[:2]):
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        small = cv2.resize(rgb, dsize=(0, 0), fx=0.25, fy=0.25, interpolation=cv2.INTER_LINEAR)
        expected = small.transpose(2, 0, 1).astype(np.float32)
        expected -= np.array([123, 117, 104], dtype=np.float32)[:, None, None]
        np.testing.assert_array_equal(x[b].numpy(), expected)
    assert x.shape == (2, 3, 60, 106) and x.dtype == torch.float32


def test_torch_resize_option_is_close_but_not_identical(net: S3FDNet) -> None:
    from matplotlib import cbook

    face = cv2.imread(str(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)))
    frame = np.full((720, 1280, 3), 90, np.uint8)
    frame[60:660, 300:812] = face
    spec = S3FDDetector(net=net, device="cpu").preprocess([frame])
    fast = S3FDDetector(net=net, device="cpu", resize="torch").preprocess([frame])
    diff = (spec - fast).abs()
    assert spec.shape == fast.shape == (1, 3, 180, 320)
    assert float(diff.max()) <= 1.0  # at most one grey level ...
    assert 0.0 < float((diff > 0).float().mean()) < 0.2  # ... on a small share of values


def test_one_frame_reference_path_equals_the_literal_spec(net, frames) -> None:
    detector = S3FDDetector(net=net, device="cpu", params=PARAMS)
    got = detector.detect_batch_reference(frames[:1])[0]
    expected = spec_reference(net, frames[0], PARAMS)
    assert expected.shape[0] > 0
    np.testing.assert_array_equal(got, expected)


def test_batched_path_equals_the_reference_path(net, frames) -> None:
    detector = S3FDDetector(net=net, device="cpu", params=PARAMS, batch_size=2, threads=2)
    batched = detector.detect_batch(frames)  # batches of 2 + 1, resized on two threads
    single = detector.detect_batch_reference(frames)
    assert len(batched) == len(single) == 3
    for a, b in zip(batched, single, strict=True):
        assert a.shape == b.shape and a.shape[0] > 0
        # Batched convolutions may round differently in the last bits.
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-3)
    detector.close()


def test_output_contract_and_original_pixels(net, frames) -> None:
    detector = S3FDDetector(net=net, device="cpu", params=PARAMS)
    small = cv2.resize(frames[0], (212, 120))
    out = detector.detect_batch([frames[0], small, frames[1]])  # mixed sizes in one call
    assert [o.shape[1] for o in out] == [5, 5, 5]
    for det in out:
        assert det.dtype == np.float64
        assert np.all(np.diff(det[:, 4]) <= 0)
        assert np.all((det[:, 4] > PARAMS.conf_th) & (det[:, 4] <= 1))
    # Boxes are in original pixels: the prior grid spans the whole frame at any input size, so
    # box centres must spread over (most of) each frame's own width.
    for det, frame in ((out[0], frames[0]), (out[1], small)):
        centres = (det[:, 0] + det[:, 2]) / 2
        assert centres.max() > 0.6 * frame.shape[1] and centres.max() < 1.2 * frame.shape[1]
    describe = detector.describe()
    assert describe["name"] == "s3fd" and describe["scale"] == 0.25
    assert describe["conf_th"] == 0.6 and describe["device"] == "cpu"
    assert detector.detect_batch([]) == []


def test_prepare_shrinks_with_opencv_and_keeps_the_original_size(net: S3FDNet) -> None:
    detector = S3FDDetector(net=net, device="cpu")
    rng = np.random.default_rng(1)
    for height, width in ((240, 424), (241, 427)):  # odd sizes: rounded as OpenCV rounds
        frame = rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8)
        prepared = detector.prepare(frame)
        assert isinstance(prepared, ShrunkFrame)
        assert prepared.frame_size == (height, width)  # boxes are scaled back to it
        expected = cv2.resize(frame, (0, 0), fx=0.25, fy=0.25)  # spec §4.2, INTER_LINEAR
        np.testing.assert_array_equal(prepared.image, expected)
    with pytest.raises(InvalidInputError, match="uint8"):
        detector.prepare(np.zeros((8, 8, 3), np.float32))


def test_detect_prepared_equals_detect_batch(net: S3FDNet, frames: list[np.ndarray]) -> None:
    # The pipeline resizes on its decoding thread (prepare) and detects later: the numbers must
    # be detect_batch's. Two sizes interleaved, 3 + 2 frames over batches of 2, so both group by
    # size and split into chunks the same way.
    detector = S3FDDetector(net=net, device="cpu", params=PARAMS, batch_size=2)
    small = [cv2.resize(frame, (212, 120)) for frame in frames[:2]]
    mixed = [frames[0], small[0], frames[1], frames[2], small[1]]
    expected = detector.detect_batch(mixed)
    got = detector.detect_prepared([detector.prepare(frame) for frame in mixed])
    assert len(got) == len(expected) == 5
    assert all(len(found) > 0 for found in expected)  # PARAMS lets random-init boxes through
    for a, b in zip(got, expected, strict=True):
        assert np.array_equal(a, b)
    assert detector.detect_prepared([]) == []


def test_detect_prepared_frames_of_one_shrunk_size_share_batches(net: S3FDNet) -> None:
    # 240x424 and 241x425 both shrink to 60x106: detect_prepared batches them together,
    # detect_batch (grouping by original size) does not, so batched convolutions may round
    # differently in the last bits (3e-5 px measured on CPU); boxes use each original size.
    rng = np.random.default_rng(2)
    mixed = [rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8) for h, w in ((240, 424),) * 2]
    mixed.insert(1, rng.integers(0, 256, size=(241, 425, 3), dtype=np.uint8))
    detector = S3FDDetector(net=net, device="cpu", params=PARAMS, batch_size=2)
    expected = detector.detect_batch(mixed)
    got = detector.detect_prepared([detector.prepare(frame) for frame in mixed])
    for a, b in zip(got, expected, strict=True):
        assert a.shape == b.shape and a.shape[0] > 0
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-3)


def test_detect_prepared_refuses_raw_frames(net: S3FDNet, frames: list[np.ndarray]) -> None:
    # With resize="cv2" a raw frame would skip the resize: refused, even mixed with good items.
    detector = S3FDDetector(net=net, device="cpu")
    with pytest.raises(InvalidInputError, match="prepare"):
        detector.detect_prepared([frames[0]])
    with pytest.raises(InvalidInputError, match="prepare"):
        detector.detect_prepared([detector.prepare(frames[0]), frames[1]])


def test_torch_resize_prepares_nothing(net: S3FDNet, frames: list[np.ndarray]) -> None:
    # resize="torch" shrinks on the device: prepare keeps the frame, detect_prepared = detect_batch.
    detector = S3FDDetector(net=net, device="cpu", params=PARAMS, resize="torch")
    assert detector.prepare(frames[0]) is frames[0]
    got = detector.detect_prepared([detector.prepare(frame) for frame in frames[:2]])
    for a, b in zip(got, detector.detect_batch(frames[:2]), strict=True):
        assert np.array_equal(a, b)


def test_bad_arguments_are_clear_errors(net) -> None:
    with pytest.raises(InvalidInputError, match="uint8"):
        S3FDDetector(net=net, device="cpu").detect_batch([np.zeros((10, 10, 3), np.float32)])
    with pytest.raises(InvalidInputError, match="batch_size"):
        S3FDDetector(net=net, device="cpu", batch_size=0)
    with pytest.raises(InvalidInputError, match="fp16"):
        S3FDDetector(net=net, device="cpu", fp16=True)
    with pytest.raises(ModelError, match="weights"):
        S3FDDetector(device="cpu")
    with pytest.raises(InvalidInputError, match="device"):
        resolve_device("tpu")


def test_scaled_size_matches_opencv() -> None:
    for h, w in ((720, 1280), (1080, 1920), (481, 853), (3, 3)):
        small = cv2.resize(np.zeros((h, w, 3), np.uint8), (0, 0), fx=0.25, fy=0.25)
        assert scaled_size(h, w, 0.25) == small.shape[:2]


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_path_matches_cpu(net, frames) -> None:
    """Random-init scores cluster near 0.5-0.66 with near-ties, so final box lists may differ
    by a reordering: compare the network outputs, then the NMS on identical inputs."""
    import copy

    from voxrepro.detect.s3fd import cudnn_tf32
    from voxrepro.detect.s3fd_box import decode_boxes, detect_step, face_scores, make_priors

    cpu = S3FDDetector(net=copy.deepcopy(net), device="cpu", params=PARAMS)
    gpu = S3FDDetector(net=copy.deepcopy(net), device="cuda", params=PARAMS)
    x = cpu.preprocess(frames)
    torch.testing.assert_close(gpu.preprocess(frames).cpu(), x, rtol=0, atol=0)
    with torch.inference_mode(), cudnn_tf32(False):  # as detect_tensor does by default
        loc_c, conf_c, sizes = cpu.net(x)
        loc_g, conf_g, _ = gpu.net(x.cuda())
    torch.testing.assert_close(loc_g.cpu(), loc_c, atol=1e-3, rtol=1e-3)
    torch.testing.assert_close(face_scores(conf_g).cpu(), face_scores(conf_c), atol=1e-4, rtol=0)
    boxes = decode_boxes(loc_c, make_priors(x.shape[2], x.shape[3], sizes))
    scores = face_scores(conf_c)
    on_cpu = detect_step(boxes, scores, PARAMS)
    on_gpu = detect_step(boxes.cuda(), scores.cuda(), PARAMS)
    torch.testing.assert_close(on_gpu[0].cpu(), on_cpu[0], rtol=0, atol=0)
    torch.testing.assert_close(on_gpu[1].cpu(), on_cpu[1], rtol=0, atol=0)
    for detector in (gpu, S3FDDetector(net=copy.deepcopy(net), device="cuda", fp16=True)):
        for det in detector.detect_batch(frames):
            assert det.dtype == np.float64 and det.shape[1] == 5
            assert np.all(np.diff(det[:, 4]) <= 0)
