"""Packed I420 maths on a torch device (run here on the CPU) against OpenCV on the host."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from voxrepro.crop import cut_window
from voxrepro.media.i420 import (
    quarter_bgr,
    quarter_is_exact,
    subsample_bgr,
    window_crops,
    yuv_to_bgr,
)

PAD = 110


def _frame(height: int, width: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A packed I420 frame with noisy luma and smooth chroma, and OpenCV's BGR of it."""
    rng = np.random.default_rng(seed)
    smooth = cv2.GaussianBlur(rng.integers(0, 256, (height, width, 3), dtype=np.uint8), (0, 0), 3)
    packed = cv2.cvtColor(smooth, cv2.COLOR_BGR2YUV_I420)
    packed[:height] = rng.integers(0, 256, (height, width), dtype=np.uint8)
    return packed, cv2.cvtColor(packed, cv2.COLOR_YUV2BGR_I420)


def test_conversion_equals_opencv_for_every_yuv_triple() -> None:
    # Each (U, V) pair owns 64 2x2 blocks whose 256 luma samples are 0..255: all 2**24 triples.
    pairs = np.arange(65536)
    u_plane = (pairs // 256).astype(np.uint8).repeat(64).reshape(2048, 2048)
    v_plane = (pairs % 256).astype(np.uint8).repeat(64).reshape(2048, 2048)
    blocks = np.arange(256, dtype=np.uint8).reshape(64, 2, 2)  # one pair's 64 blocks
    luma_blocks = np.broadcast_to(blocks, (65536, 64, 2, 2)).reshape(2048, 2048, 2, 2)
    luma = luma_blocks.transpose(0, 2, 1, 3).reshape(4096, 4096)
    packed = np.concatenate([luma, u_plane.reshape(1024, 4096), v_plane.reshape(1024, 4096)])
    expected = cv2.cvtColor(packed, cv2.COLOR_YUV2BGR_I420)
    chroma = np.ix_(np.arange(4096) // 2, np.arange(4096) // 2)
    got = yuv_to_bgr(
        torch.from_numpy(luma), torch.from_numpy(u_plane[chroma]), torch.from_numpy(v_plane[chroma])
    )
    assert np.array_equal(got.numpy(), expected)


@pytest.mark.parametrize(("height", "width"), [(720, 1280), (1080, 1920), (98, 162), (360, 642)])
def test_quarter_equals_opencv_resize_of_the_converted_frame(height: int, width: int) -> None:
    assert quarter_is_exact(height, width)
    packed, bgr = _frame(height, width)
    expected = cv2.resize(bgr, (0, 0), fx=0.25, fy=0.25, interpolation=cv2.INTER_LINEAR)
    got = quarter_bgr(torch.from_numpy(packed)[None], height, width)[0].numpy()
    assert np.array_equal(got, expected)


def test_quarter_is_not_claimed_exact_where_the_last_block_leaves_the_frame() -> None:
    # 14 rows: OpenCV makes 4 (3.5 rounds to even) and the last reads rows 13 and 14.
    assert not quarter_is_exact(14, 64)
    assert not quarter_is_exact(15, 64)  # odd sides are not 4:2:0 frames at all


@pytest.mark.parametrize("step", [1, 2, 3, 5, 7])
def test_subsample_equals_slicing_the_converted_frame(step: int) -> None:
    packed, bgr = _frame(98, 162, seed=step)
    got = subsample_bgr(torch.from_numpy(packed)[None], 98, 162, step)[0].numpy()
    assert np.array_equal(got, bgr[::step, ::step])


WINDOWS = [
    (100, 50, 700, 650),  # inside, shrunk
    (-100, -60, 500, 540),  # leaves the frame top-left: padded
    (900, 400, 1500, 1000),  # leaves bottom-right
    (300, 200, 401, 301),  # enlarged
    (-50, 600, 150, 800),  # mostly outside
    (0, 0, 1280, 720),  # the whole frame, not square
]


def test_crops_match_opencv_within_one_level() -> None:
    packed, bgr = _frame(720, 1280, seed=3)
    batch = torch.from_numpy(np.stack([packed] * len(WINDOWS)))
    got = window_crops(batch, 720, 1280, np.array(WINDOWS), 224, PAD).numpy()
    for row, window in enumerate(WINDOWS):
        expected = cv2.resize(
            cut_window(bgr, window, PAD), (224, 224), interpolation=cv2.INTER_LINEAR
        )
        diff = np.abs(got[row].astype(int) - expected)
        assert diff.max() <= 1, window
        assert diff.mean() < 0.2, window


def test_a_window_of_the_clip_size_is_copied_exactly_and_one_outside_is_all_padding() -> None:
    packed, bgr = _frame(360, 640, seed=4)
    batch = torch.from_numpy(np.stack([packed, packed]))
    windows = np.array([(10, 20, 234, 244), (-400, -400, -100, -100)])
    got = window_crops(batch, 360, 640, windows, 224, PAD).numpy()
    assert np.array_equal(got[0], bgr[20:244, 10:234])
    assert np.all(got[1] == PAD)


def test_empty_windows_are_refused() -> None:
    packed, _ = _frame(96, 160)
    with pytest.raises(ValueError, match="empty crop window"):
        window_crops(torch.from_numpy(packed)[None], 96, 160, np.array([(5, 5, 5, 9)]), 32, PAD)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_gives_the_cpu_bytes() -> None:
    packed, _ = _frame(720, 1280, seed=5)
    host = torch.from_numpy(np.stack([packed, packed[::-1].copy()]))
    device = host.cuda()
    assert torch.equal(quarter_bgr(device, 720, 1280).cpu(), quarter_bgr(host, 720, 1280))
    assert torch.equal(subsample_bgr(device, 720, 1280, 5).cpu(), subsample_bgr(host, 720, 1280, 5))
    windows = np.array([WINDOWS[0], WINDOWS[1]])
    on_gpu = window_crops(device, 720, 1280, windows, 224, PAD).cpu().to(torch.int32)
    on_cpu = window_crops(host, 720, 1280, windows, 224, PAD).to(torch.int32)
    assert (on_gpu - on_cpu).abs().max() <= 1
