"""Shot detection (voxrepro.scenes): v0.5.1 ContentDetector semantics, cross-checked with 0.7.2."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import pytest

from voxrepro import scenes


def _scene_image(seed: int, height: int = 96, width: int = 128) -> np.ndarray:
    """A random blocky colour image; different seeds give very different HSV content."""
    rng = np.random.default_rng(seed)
    blocks = rng.integers(0, 256, size=(height // 16, width // 16, 3), dtype=np.uint8)
    return cv2.resize(blocks, (width, height), interpolation=cv2.INTER_NEAREST)


def _clip(scene_lengths: Sequence[int], height: int = 96, width: int = 128) -> list[np.ndarray]:
    """Hard cuts between scenes; inside a scene the picture drifts by one pixel per frame."""
    frames = []
    for scene_index, length in enumerate(scene_lengths):
        base = _scene_image(1000 + scene_index, height, width)
        frames.extend(np.roll(base, shift=k, axis=1) for k in range(length))
    return frames


def _cut_frames(scene_lengths: Sequence[int]) -> list[int]:
    return list(np.cumsum(scene_lengths)[:-1])


# --- pure helpers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("width", "factor"),
    [
        (3840, 12),
        (3200, 12),
        (2560, 8),
        (1920, 6),
        (1280, 5),
        (1024, 4),
        (900, 4),
        (899, 3),
        (640, 3),
        (512, 2),
        (400, 2),
        (399, 1),
        (320, 1),
    ],
)
def test_downscale_factor_table(width: int, factor: int) -> None:
    assert scenes.compute_downscale_factor(width) == factor


def test_content_value_is_mean_of_channel_mean_abs_differences() -> None:
    previous = np.zeros((2, 2, 3), dtype=np.uint8)
    current = np.zeros((2, 2, 3), dtype=np.uint8)
    current[0, 0] = (40, 8, 200)  # H diff 40/4 = 10, S 8/4 = 2, V 200/4 = 50
    assert scenes.content_value(previous, current) == pytest.approx((10 + 2 + 50) / 3)
    assert scenes.content_value(current, previous) == scenes.content_value(previous, current)


def test_scenes_from_cuts() -> None:
    assert scenes.scenes_from_cuts([], 10) == [(0, 10)]
    assert scenes.scenes_from_cuts([3, 7], 10) == [(0, 3), (3, 7), (7, 10)]
    assert scenes.scenes_from_cuts([], 0) == []
    with pytest.raises(ValueError, match="not inside"):
        scenes.scenes_from_cuts([5, 5], 10)
    with pytest.raises(ValueError, match="not inside"):
        scenes.scenes_from_cuts([10], 10)


# --- the cut rule --------------------------------------------------------------------------------


def test_hard_cuts_found_at_first_frame_of_each_scene() -> None:
    lengths = [40, 25, 60]
    got = scenes.detect_scenes(_clip(lengths))
    assert got == [(0, 40), (40, 65), (65, 125)]


def test_no_cut_gives_one_scene_and_empty_input_none() -> None:
    assert scenes.detect_scenes(_clip([50])) == [(0, 50)]
    assert scenes.detect_scenes([]) == []


def test_cut_closer_than_min_scene_len_is_suppressed_not_merged() -> None:
    # cuts at 30, 40 (only 10 after 30: dropped), 45 (15 after 30: kept), 80
    lengths = [30, 10, 5, 35, 20]
    cutter = scenes.SceneCutter()
    flags = [cutter.push(frame) for frame in _clip(lengths)]
    assert cutter.cuts == [30, 45, 80]
    assert [i for i, flag in enumerate(flags) if flag] == [30, 45, 80]
    assert cutter.scenes() == [(0, 30), (30, 45), (45, 80), (80, 100)]


def test_rejected_cut_does_not_restart_the_min_length_clock() -> None:
    # cuts at 20, 30 (rejected), 35 (15 after 20: accepted even though only 5 after 30)
    cutter = scenes.SceneCutter()
    for frame in _clip([20, 10, 5, 20]):
        cutter.push(frame)
    assert cutter.cuts == [20, 35]


def test_first_cut_is_not_constrained_by_frame_zero() -> None:
    # v0.5.1: a cut 5 frames into the video is accepted (0.7.2 would drop it, see below)
    assert scenes.detect_scenes(_clip([5, 30])) == [(0, 5), (5, 35)]


def test_threshold_is_inclusive() -> None:
    # grey level g in BGR -> H = S = 0, V = g, so content_val = g / 3 after a black frame
    black = np.zeros((4, 4, 3), np.uint8)
    hsv = cv2.cvtColor(np.full((4, 4, 3), 90, np.uint8), cv2.COLOR_BGR2HSV)
    assert scenes.content_value(cv2.cvtColor(black, cv2.COLOR_BGR2HSV), hsv) == 30.0
    assert scenes.detect_scenes([black, np.full((4, 4, 3), 90, np.uint8)]) == [(0, 1), (1, 2)]
    assert scenes.detect_scenes([black, np.full((4, 4, 3), 89, np.uint8)]) == [(0, 2)]


def test_downscale_is_plain_slicing() -> None:
    # Only odd columns change: with slicing by 2 (width 512 -> factor 2) the change is invisible;
    # without downscaling it is a cut.
    base = np.zeros((64, 512, 3), dtype=np.uint8)
    changed = base.copy()
    changed[:, 1::2] = 255
    auto = scenes.SceneCutter()
    assert not auto.push(base) and not auto.push(changed)
    assert auto.downscale == 2 and auto.last_score == 0.0
    full = scenes.SceneCutter(downscale=1)
    full.push(base)
    assert full.push(changed)


def test_push_rejects_bad_frames_with_the_frame_index() -> None:
    cutter = scenes.SceneCutter()
    cutter.push(np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(ValueError, match="frame 1: size 9x8 differs"):
        cutter.push(np.zeros((8, 9, 3), np.uint8))
    with pytest.raises(ValueError, match="HxWx3 uint8"):
        cutter.push(np.zeros((8, 8), np.uint8))


@pytest.mark.parametrize("factor", [1, 2, 3, 4, 5, 8])
@pytest.mark.parametrize(
    ("height", "width"), [(720, 1280), (721, 1283), (360, 640), (1080, 1920), (7, 9)]
)
def test_slice_every_is_numpy_slicing(height: int, width: int, factor: int) -> None:
    # The fast path (cv2 nearest resize when the factor divides both sides) must pick exactly
    # the pixels of v0.5.1's frame[::N, ::N]; other sizes fall back to the numpy copy.
    frame = np.random.default_rng(height * width + factor).integers(
        0, 256, size=(height, width, 3), dtype=np.uint8
    )
    got = scenes.slice_every(frame, factor)
    if factor == 1:
        assert got is frame
    expected = frame[::factor, ::factor]
    assert got.shape == expected.shape and got.dtype == np.uint8
    assert got.flags.c_contiguous
    np.testing.assert_array_equal(got, expected)


def _noisy_clip(height: int = 360, width: int = 960) -> list[np.ndarray]:
    """Flat colour shots with noise on top: cuts at 20, 40 and 65, none inside a shot."""
    rng = np.random.default_rng(7)
    # No red: noise on red flips the hue between 0 and 179, which reads as a cut.
    colours = [(200, 60, 30), (30, 170, 40), (180, 30, 160), (20, 190, 200)]
    lengths = [20, 20, 25, 3]
    frames = []
    for colour, length in zip(colours, lengths, strict=True):
        for _ in range(length):
            noise = rng.integers(-12, 13, size=(height, width, 3), dtype=np.int16)
            frames.append((np.array(colour, np.int16) + noise).astype(np.uint8))
    return frames


def test_sample_then_push_sample_equals_push() -> None:
    # The pipeline samples on the decoding thread and pushes samples on the main one: same cuts
    # and scores as push (960 wide: factor 4, which divides both sides: the cv2 fast path).
    frames = _noisy_clip()
    direct, split = scenes.SceneCutter(), scenes.SceneCutter()
    direct_scores, split_scores = [], []
    for frame in frames:
        direct.push(frame)
        direct_scores.append(direct.last_score)
        split.push_sample(split.sample(frame))
        split_scores.append(split.last_score)
    assert direct.cuts == [20, 40, 65]  # 65: 3 frames of the last shot, but 25 after 40
    assert split.cuts == direct.cuts and split.downscale == direct.downscale == 4
    assert split_scores == direct_scores
    assert split.scenes() == direct.scenes()


def test_push_sample_refuses_a_sample_of_another_size() -> None:
    cutter = scenes.SceneCutter()
    cutter.push_sample(cutter.sample(np.zeros((8, 8, 3), np.uint8)))
    with pytest.raises(ValueError, match="frame 1: size 9x8 differs"):
        cutter.push_sample(cutter.sample(np.zeros((8, 9, 3), np.uint8)))


# --- cross-check with PySceneDetect 0.7.2 ----------------------------------------------------


def _psd_cuts(
    frames: Sequence[np.ndarray], *, suppress: bool, threshold: float = 30.0
) -> list[int]:
    """PySceneDetect 0.7.2's ContentDetector fed our frames directly (deps.md §4)."""
    from scenedetect import FrameTimecode
    from scenedetect.detector import FlashFilter
    from scenedetect.detectors import ContentDetector

    mode = FlashFilter.Mode.SUPPRESS if suppress else FlashFilter.Mode.MERGE
    detector = ContentDetector(threshold=threshold, min_scene_len=15, filter_mode=mode)
    cuts: list[int] = []
    for index, frame in enumerate(frames):
        cuts.extend(
            tc.frame_num for tc in detector.process_frame(FrameTimecode(index, 25.0), frame)
        )
    cuts.extend(tc.frame_num for tc in detector.post_process(FrameTimecode(len(frames), 25.0)))
    return cuts


def test_same_cuts_as_pyscenedetect_072_on_hard_cuts() -> None:
    lengths = [30, 45, 20, 60, 16]
    frames = _clip(lengths)
    ours = scenes.SceneCutter(downscale=1)
    for frame in frames:
        ours.push(frame)
    assert ours.cuts == _cut_frames(lengths)
    assert _psd_cuts(frames, suppress=True) == ours.cuts
    assert _psd_cuts(frames, suppress=False) == ours.cuts  # far-apart cuts: modes agree


def test_known_differences_from_pyscenedetect_072() -> None:
    # 1) first cut within min_scene_len of frame 0: v0.5.1 keeps it, 0.7.2 drops it
    early = _clip([5, 40])
    assert scenes.detect_scenes(early, downscale=1) == [(0, 5), (5, 45)]
    assert _psd_cuts(early, suppress=True) == []
    # 2) a burst of cuts 5 frames apart (30, 35, ..., 55): v0.5.1 keeps 30 and 45 (suppress);
    #    0.7.2's default MERGE mode keeps 30 and emits the burst's last cut, 55, late
    burst = _clip([30, 5, 5, 5, 5, 5, 40])
    assert scenes.detect_scenes(burst, downscale=1) == [(0, 30), (30, 45), (45, 95)]
    assert _psd_cuts(burst, suppress=True) == [30, 45]
    assert _psd_cuts(burst, suppress=False) == [30, 55]


# --- real video: hard cuts made by joining real single-shot talking-face clips -------------------


def _read_frames(path: Path, count: int, size: int = 512) -> list[np.ndarray]:
    import av

    frames = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            image = frame.to_ndarray(format="bgr24")
            height, width = image.shape[:2]
            side = min(height, width)
            top, left = (height - side) // 2, (width - side) // 2
            frames.append(cv2.resize(image[top : top + side, left : left + side], (size, size)))
            if len(frames) == count:
                break
    return frames


def test_real_clips_joined_cut_exactly_at_the_joins(shared_videos: Path) -> None:
    names = ["hdtf_wda_katiehill_000.mp4", "lp_d9_speaking.mp4", "lp_s20_outdoor.mp4"]
    lengths = [70, 50, 60]
    frames: list[np.ndarray] = []
    for name, length in zip(names, lengths, strict=True):
        frames.extend(_read_frames(shared_videos / name, length))
    cutter = scenes.SceneCutter()
    for frame in frames:
        cutter.push(frame)
    assert cutter.downscale == 2  # 512 px wide
    assert cutter.cuts == [70, 120]
    assert cutter.scenes() == [(0, 70), (70, 120), (120, 180)]
    # PySceneDetect 0.7.2 on the same sliced frames, v0.5.1's threshold and suppress mode
    assert _psd_cuts([f[::2, ::2] for f in frames], suppress=True) == cutter.cuts
