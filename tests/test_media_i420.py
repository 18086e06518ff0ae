"""Packed I420 frames: every conversion equals OpenCV's full conversion then slicing/resizing."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from voxrepro.crop import cut_window
from voxrepro.media import i420


def _random_packed(height: int, width: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    # Smooth luma plus noise: realistic structure and every value range touched.
    base = cv2.resize(rng.integers(0, 256, (8, 8), dtype=np.uint8), (width, height))
    luma = np.clip(base.astype(np.int16) + rng.integers(-40, 40, base.shape), 0, 255)
    chroma = rng.integers(0, 256, (height // 2 * width // 2 * 2,), dtype=np.uint8)
    packed = np.concatenate([luma.astype(np.uint8).reshape(-1), chroma])
    return packed.reshape(height * 3 // 2, width)


def test_yuv_to_bgr_equals_opencv_for_every_yuv_triple() -> None:
    # Every (U, V) chroma block; each block's four pixels take four Y values; 64 images cover
    # all 256 Y values for all 65,536 (U, V): 16.7 M triples.
    uv = np.arange(65536, dtype=np.int64).reshape(64, 1024)
    u, v = (uv >> 8).astype(np.uint8), (uv & 255).astype(np.uint8)
    for base in range(0, 256, 4):
        y = np.empty((128, 2048), np.uint8)
        y[0::2, 0::2], y[0::2, 1::2] = base, base + 1
        y[1::2, 0::2], y[1::2, 1::2] = base + 2, base + 3
        packed = np.concatenate([y, u.reshape(32, 2048), v.reshape(32, 2048)])
        expected = cv2.cvtColor(packed, cv2.COLOR_YUV2BGR_I420)
        up = np.repeat(np.repeat(u, 2, 0), 2, 1), np.repeat(np.repeat(v, 2, 0), 2, 1)
        ours = i420.yuv_to_bgr(*(torch.from_numpy(a) for a in (y, *up))).numpy()
        assert np.array_equal(ours, expected), base


@pytest.mark.parametrize(
    "window",
    [(0, 0, 160, 128), (3, 5, 50, 61), (1, 1, 2, 2), (101, 77, 159, 127),
     (-20, -7, 40, 30), (140, 100, 190, 150), (-5, -5, 170, 140), (200, 10, 260, 50)],
)
def test_window_bgr_equals_cut_window_of_the_full_conversion(window: tuple) -> None:
    packed = _random_packed(128, 160)
    expected = cut_window(i420.to_bgr(packed), window, pad_value=110)
    assert np.array_equal(i420.window_bgr(packed, 128, 160, window), expected)


@pytest.mark.parametrize(("height", "width", "step"), [(720, 1280, 5), (128, 160, 3), (62, 98, 4)])
def test_subsample_bgr_equals_slicing(height: int, width: int, step: int) -> None:
    packed = _random_packed(height, width, seed=1)
    expected = i420.to_bgr(packed)[::step, ::step]
    assert np.array_equal(i420.subsample_bgr(packed, height, width, step), expected)


@pytest.mark.parametrize(
    ("height", "width"), [(720, 1280), (360, 640), (128, 160), (362, 642), (100, 98)]
)
def test_quarter_bgr_equals_opencv_inter_linear(height: int, width: int) -> None:
    assert i420.quarter_is_exact(height, width)
    frames = [_random_packed(height, width, seed) for seed in range(3)]
    batch = torch.from_numpy(np.stack(frames))
    ours = i420.quarter_bgr(batch, height, width).numpy()
    for frame, small in zip(frames, ours, strict=True):
        expected = cv2.resize(
            i420.to_bgr(frame), (0, 0), fx=0.25, fy=0.25, interpolation=cv2.INTER_LINEAR
        )
        assert small.shape == expected.shape
        assert np.array_equal(small, expected)


def test_sizes_whose_last_sample_leaves_the_frame_are_not_claimed_exact() -> None:
    assert not i420.quarter_is_exact(720, 1278)  # 319.5 -> 320 columns: the last needs 1278
    assert not i420.quarter_is_exact(721, 1280)  # odd: not a 4:2:0 frame
