"""Packed I420 frames, and the exact OpenCV maths to get BGR pixels out of them cheaply.

The GPU pipeline path keeps each frame as the decoder gave it (Y, then U, then V, packed in one
``(H * 3 / 2, W)`` uint8 array: half the bytes of BGR and no full-frame conversion on the CPU).
Each consumer converts only what it needs, bit-identical to ``cv2.cvtColor(packed,
COLOR_YUV2BGR_I420)`` followed by the consumer's own slicing or resize:

* crop windows: the window's planes through OpenCV (``window_bgr``);
* the shot cutter's ``BGR[::N, ::N]``: the sampled pixels through OpenCV's fixed-point formula
  (``subsample_bgr``);
* S3FD's input: the whole batch converted and resized by 1/4 on the GPU with the same integer
  maths (``quarter_bgr``), which equals OpenCV's INTER_LINEAR for a 0.25 scale: the rounded
  mean of the 2x2 pixels at rows 4i+1, 4i+2 and columns 4j+1, 4j+2.

OpenCV's 8-bit BT.601 limited-range constants (``color_yuv.simd.hpp``), checked exhaustively
against ``cv2.cvtColor`` over every (Y, U, V) in the tests.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt
import torch

from voxrepro.crop import PAD_VALUE

CY, CUB, CUG, CVG, CVR = 1220542, 2116026, -409993, -852492, 1673527
SHIFT = 20

Packed = npt.NDArray[np.uint8]


def packed_planes(
    packed: Packed, height: int, width: int
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8], npt.NDArray[np.uint8]]:
    """Views of Y (H, W), U and V (H/2, W/2) inside a packed I420 frame."""
    flat = packed.reshape(-1)
    luma, quarter = height * width, (height // 2) * (width // 2)
    u = flat[luma : luma + quarter].reshape(height // 2, width // 2)
    v = flat[luma + quarter : luma + 2 * quarter].reshape(height // 2, width // 2)
    return flat[:luma].reshape(height, width), u, v


def to_bgr(packed: Packed) -> npt.NDArray[np.uint8]:
    """The whole frame as BGR (OpenCV)."""
    return cv2.cvtColor(packed, cv2.COLOR_YUV2BGR_I420)


def window_bgr(
    packed: Packed, height: int, width: int, window: tuple[int, int, int, int]
) -> npt.NDArray[np.uint8]:
    """``voxrepro.crop.cut_window(to_bgr(packed), window, 110)``, converting only the window.

    The part inside the frame is converted from its planes (rounded out to whole 2x2 chroma
    blocks, then trimmed); the rest is the pad value, as ``cut_window`` does.
    """
    x1, y1, x2, y2 = (int(v) for v in window)
    if x2 <= x1 or y2 <= y1:
        raise ValueError(f"empty window {(x1, y1, x2, y2)}")
    ix1, iy1, ix2, iy2 = max(x1, 0), max(y1, 0), min(x2, width), min(y2, height)
    inside = x1 == ix1 and y1 == iy1 and x2 == ix2 and y2 == iy2
    out = None if inside else np.full((y2 - y1, x2 - x1, 3), PAD_VALUE, dtype=np.uint8)
    if ix2 <= ix1 or iy2 <= iy1:
        assert out is not None
        return out
    luma, u, v = packed_planes(packed, height, width)
    ex1, ey1 = ix1 & ~1, iy1 & ~1
    ex2, ey2 = ix2 + (ix2 & 1), iy2 + (iy2 & 1)
    block = np.empty(((ey2 - ey1) * 3 // 2, ex2 - ex1), dtype=np.uint8)
    rows = ey2 - ey1
    block[:rows] = luma[ey1:ey2, ex1:ex2]
    chroma = block[rows:].reshape(2, rows // 2, (ex2 - ex1) // 2)
    chroma[0] = u[ey1 // 2 : ey2 // 2, ex1 // 2 : ex2 // 2]
    chroma[1] = v[ey1 // 2 : ey2 // 2, ex1 // 2 : ex2 // 2]
    bgr = cv2.cvtColor(block, cv2.COLOR_YUV2BGR_I420)[iy1 - ey1 : iy2 - ey1, ix1 - ex1 : ix2 - ex1]
    if out is None:
        return bgr
    out[iy1 - y1 : iy2 - y1, ix1 - x1 : ix2 - x1] = bgr
    return out


def yuv_to_bgr(y: torch.Tensor, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """OpenCV's I420 -> BGR per pixel, for same-shaped uint8 Y, U, V (U, V already sampled at
    each pixel's 2x2 chroma block). Returns ``(*shape, 3)`` uint8, exact."""
    luma = (y.to(torch.int32) - 16).clamp_(min=0) * CY
    uu = u.to(torch.int32) - 128
    vv = v.to(torch.int32) - 128
    half = 1 << (SHIFT - 1)
    blue = (luma + half + CUB * uu) >> SHIFT
    green = (luma + half + CVG * vv + CUG * uu) >> SHIFT
    red = (luma + half + CVR * vv) >> SHIFT
    return torch.stack((blue, green, red), dim=-1).clamp_(0, 255).to(torch.uint8)


def subsample_bgr(packed: Packed, height: int, width: int, step: int) -> npt.NDArray[np.uint8]:
    """``to_bgr(packed)[::step, ::step]`` converting only the sampled pixels."""
    luma, u, v = packed_planes(packed, height, width)
    rows, cols = np.arange(0, height, step), np.arange(0, width, step)
    chroma = np.ix_(rows // 2, cols // 2)
    small = yuv_to_bgr(
        torch.from_numpy(np.ascontiguousarray(luma[::step, ::step])),
        torch.from_numpy(u[chroma]),
        torch.from_numpy(v[chroma]),
    )
    return small.numpy()


def quarter_size(height: int, width: int) -> tuple[int, int]:
    """OpenCV's output size for fx = fy = 0.25 (``cvRound``: half to even)."""
    return int(np.rint(height * 0.25)), int(np.rint(width * 0.25))


def quarter_is_exact(height: int, width: int) -> bool:
    """Whether ``quarter_bgr`` equals OpenCV here: the last output pixel's 2x2 source block
    lies inside the frame (true for every even size that is a multiple of 4, e.g. 720p)."""
    out_h, out_w = quarter_size(height, width)
    return height % 2 == 0 and width % 2 == 0 and 4 * out_h - 2 < height and 4 * out_w - 2 < width


def quarter_bgr(batch: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Packed I420 frames ``(B, H * 3 / 2, W)`` uint8 (any device) -> ``(B, h, w, 3)`` uint8 BGR
    equal to ``cv2.resize(to_bgr(frame), (0, 0), fx=0.25, fy=0.25)`` (INTER_LINEAR) when
    ``quarter_is_exact(height, width)``."""
    out_h, out_w = quarter_size(height, width)
    flat = batch.reshape(batch.shape[0], -1)
    luma, quarter = height * width, (height // 2) * (width // 2)
    y = flat[:, :luma].reshape(-1, height, width)
    u = flat[:, luma : luma + quarter].reshape(-1, height // 2, width // 2)
    v = flat[:, luma + quarter : luma + 2 * quarter].reshape(-1, height // 2, width // 2)
    total = None
    for dy in (1, 2):
        rows = torch.arange(out_h, device=batch.device) * 4 + dy
        for dx in (1, 2):
            cols = torch.arange(out_w, device=batch.device) * 4 + dx
            sample_y = y[:, rows][:, :, cols]
            sample_u = u[:, rows // 2][:, :, cols // 2]
            sample_v = v[:, rows // 2][:, :, cols // 2]
            bgr = yuv_to_bgr(sample_y, sample_u, sample_v).to(torch.int32)
            total = bgr if total is None else total + bgr
    assert total is not None
    return ((total + 2) >> 2).to(torch.uint8)


__all__ = [
    "packed_planes",
    "quarter_bgr",
    "quarter_is_exact",
    "quarter_size",
    "subsample_bgr",
    "to_bgr",
    "window_bgr",
    "yuv_to_bgr",
]
