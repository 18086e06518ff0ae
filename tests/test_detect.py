"""The detector contract over every backend, the light detectors on real faces and on
face-free frames, and ``make_detector``'s choice."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from matplotlib import cbook

from voxrepro.detect import (
    DETECTORS,
    Detector,
    available_detectors,
    detector_class,
    make_detector,
    yuface_available,
)
from voxrepro.detect.resize import fit_factor
from voxrepro.errors import InvalidInputError, ModelError

needs_yuface = pytest.mark.skipif(not yuface_available(), reason="yuface has no wheel here")

#: Grace Hopper's face in matplotlib's 512x600 sample, x1, y1, x2, y2 pixels (looked at by eye:
#: forehead to chin, ear to ear).
GRACE_FACE = (170, 110, 360, 350)
#: Where the sample is pasted in the 1280x720 test frame.
OFFSET = (400, 60)


def grace_hopper() -> np.ndarray:
    path = cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
    image = cv2.imread(str(path))
    assert image is not None and image.shape == (600, 512, 3)
    return image


def grace_in_720p() -> np.ndarray:
    """The sample letterboxed into a 1280x720 frame: detectors must map boxes back from their
    downscaled input to these pixels."""
    frame = np.full((720, 1280, 3), 100, np.uint8)
    x, y = OFFSET
    frame[y : y + 600, x : x + 512] = grace_hopper()
    return frame


def face_free_frames() -> list[np.ndarray]:
    rng = np.random.default_rng(3)
    noise = rng.integers(0, 256, size=(360, 640, 3), dtype=np.uint8)
    flat = np.full((720, 1280, 3), (40, 120, 200), np.uint8)
    gradient = np.repeat(np.linspace(0, 255, 640, dtype=np.uint8)[None, :, None], 360, 0)
    return [noise, flat, np.repeat(gradient, 3, axis=2)]


def centre_inside(box: np.ndarray, region: tuple[float, float, float, float]) -> bool:
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return region[0] <= cx <= region[2] and region[1] <= cy <= region[3]


def iou(a: np.ndarray, b: tuple[float, float, float, float]) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def _random_s3fd() -> Detector:
    from voxrepro.detect.s3fd import S3FDDetector
    from voxrepro.detect.s3fd_box import DetectParams
    from voxrepro.detect.s3fd_net import S3FDNet

    torch.manual_seed(0)
    # Random weights score around 0.5: lower conf_th so that the contract sees boxes.
    return S3FDDetector(net=S3FDNet(), device="cpu", params=DetectParams(conf_th=0.6))


FACTORIES: dict[str, Callable[[], Detector]] = {
    "s3fd": _random_s3fd,
    "yunet": lambda: make_detector("yunet"),
    "haar": lambda: make_detector("haar"),
}


@pytest.fixture(params=available_detectors())
def any_detector(request: pytest.FixtureRequest) -> Detector:
    detector = FACTORIES[request.param]()
    yield detector
    detector.close()


# --- contract ---------------------------------------------------------------------------------


def test_contract_same_input_gives_sorted_k_by_5_arrays(any_detector: Detector) -> None:
    # The last frame is a strided, mirrored view (not contiguous), as a caller's crop may be.
    frames = [grace_in_720p(), grace_hopper(), face_free_frames()[1], grace_in_720p()[::2, ::-2]]
    out = any_detector.detect_batch(frames)
    assert isinstance(out, list) and len(out) == 4
    for det, frame in zip(out, frames, strict=True):
        assert isinstance(det, np.ndarray) and det.dtype == np.float64
        assert det.ndim == 2 and det.shape[1] == 5
        assert np.all(np.diff(det[:, 4]) <= 0), "sorted by descending score"
        assert np.all((det[:, 4] > 0) & (det[:, 4] <= 1))
        assert np.all(det[:, 2] > det[:, 0]) and np.all(det[:, 3] > det[:, 1])
        # original-frame pixels: box centres lie within (or near) this frame, not a scaled one
        if len(det):
            cx = (det[:, 0] + det[:, 2]) / 2
            assert cx.max() <= frame.shape[1] * 1.1
    assert any_detector.detect_batch([]) == []
    np.testing.assert_array_equal(any_detector.detect(frames[0]), out[0])
    description = any_detector.describe()
    assert description["name"] == any_detector.NAME == type(any_detector).NAME
    assert DETECTORS[any_detector.NAME] is type(any_detector)


def test_contract_rejects_bad_frames(any_detector: Detector) -> None:
    with pytest.raises(InvalidInputError, match="frame 1"):
        any_detector.detect_batch([grace_hopper(), np.zeros((10, 10), np.uint8)])
    with pytest.raises(InvalidInputError, match="uint8"):
        any_detector.detect_batch([np.zeros((10, 10, 3), np.float64)])


# --- the light detectors on real faces ----------------------------------------------------------

LIGHT = [pytest.param("yunet", marks=needs_yuface), "haar"]


@pytest.mark.parametrize("name", LIGHT)
def test_finds_grace_hopper_in_the_sample(name: str) -> None:
    (det,) = make_detector(name).detect_batch([grace_hopper()])
    assert len(det) == 1
    assert iou(det[0], GRACE_FACE) > 0.5


@pytest.mark.parametrize("name", LIGHT)
def test_boxes_are_mapped_back_to_original_pixels(name: str) -> None:
    # The 1280x720 frame is halved before detection; the box must land on the pasted face.
    (det,) = make_detector(name).detect_batch([grace_in_720p()])
    assert len(det) == 1
    x, y = OFFSET
    shifted = (GRACE_FACE[0] + x, GRACE_FACE[1] + y, GRACE_FACE[2] + x, GRACE_FACE[3] + y)
    assert iou(det[0], shifted) > 0.5


@pytest.mark.parametrize("name", LIGHT)
def test_finds_nothing_in_face_free_frames(name: str) -> None:
    assert [len(d) for d in make_detector(name).detect_batch(face_free_frames())] == [0, 0, 0]


def _video_frames(path: Path, count: int = 4, every: int = 40) -> list[np.ndarray]:
    from voxrepro.media import iter_timeline_frames

    frames = []
    for index, frame in iter_timeline_frames(path, 0, count * every):
        if index % every == 0:
            frames.append(frame.copy())
    return frames


@pytest.mark.slow
@pytest.mark.parametrize("name", LIGHT)
def test_finds_the_speaker_in_real_videos(name: str, shared_videos: Path) -> None:
    detector = make_detector(name)
    videos = sorted(shared_videos.glob("*.mp4"))
    assert videos, f"no mp4 in {shared_videos}"
    for video in videos:
        frames = _video_frames(video)
        results = detector.detect_batch(frames)
        for frame, det in zip(frames, results, strict=True):
            height, width = frame.shape[:2]
            assert len(det) >= 1, f"{video.name}: no face"
            # Each clip has one speaker: the best box is a plausible face in the upper 70 % of
            # the frame, at least 8 % of its width.
            top = det[0]
            assert centre_inside(top, (0, 0, width, 0.7 * height)), f"{video.name}: {top}"
            assert (top[2] - top[0]) > 0.08 * width, f"{video.name}: {top}"
            # and not a stray: at most one extra box per frame
            assert len(det) <= 2, f"{video.name}: {det}"


def test_fit_factor_orientation() -> None:
    assert fit_factor(720, 1280) == 0.5  # landscape -> 640x360
    assert fit_factor(1280, 720) == 0.5  # portrait -> 360x640
    assert fit_factor(360, 640) == 1.0 and fit_factor(100, 100) == 1.0
    assert fit_factor(512, 512) == pytest.approx(360 / 512)


# --- make_detector ------------------------------------------------------------------------------


def test_auto_prefers_yuface_then_haar_without_weights(monkeypatch) -> None:
    assert make_detector().describe()["name"] == ("yunet" if yuface_available() else "haar")
    monkeypatch.setattr("voxrepro.detect.yuface_available", lambda: False)
    assert make_detector("auto").NAME == "haar"


def test_auto_with_weights_is_s3fd_and_describe_records_the_file(tmp_path: Path) -> None:
    from voxrepro.detect.s3fd_net import S3FDNet

    path = tmp_path / "sfd_face.pth"
    torch.save(S3FDNet().state_dict(), path)
    try:
        detector = make_detector(s3fd_weights=path, device="cpu", batch_size=4)
        description = detector.describe()
        assert detector.NAME == "s3fd"
        assert description["weights"] == str(path)
        assert len(description["weights_sha256"]) == 64
        assert description["batch_size"] == 4 and description["device"] == "cpu"
        detector.close()
    finally:
        path.unlink()


def test_s3fd_without_weights_is_a_clear_error(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("VOXREPRO_CACHE", str(tmp_path))  # an empty cache
    with pytest.raises(ModelError, match="voxrepro weights fetch"):
        make_detector("s3fd", device="cpu")


def test_unknown_names_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="unknown detector 'mtcnn'"):
        make_detector("mtcnn")
    with pytest.raises(InvalidInputError):
        detector_class("auto")
