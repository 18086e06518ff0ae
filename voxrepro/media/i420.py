"""Packed I420 frames on a torch device, and the pixels the pipeline needs out of them.

The device frame route (``voxrepro.pipeline.device_frames``) keeps each decoded frame as the
decoder gave it, Y then U then V packed in one ``(H * 3 / 2, W)`` uint8 tensor: half the bytes
of BGR, and no full-frame conversion on the CPU. Everything that reads whole frames runs here,
batched, on the detector's device:

* S3FD's input (``quarter_bgr``): equal to ``cv2.resize(bgr, fx=0.25, fy=0.25)`` (INTER_LINEAR),
  where ``bgr = cv2.cvtColor(packed, COLOR_YUV2BGR_I420)``. At a 0.25 scale INTER_LINEAR is the
  rounded mean of the 2x2 pixels at rows 4i+1, 4i+2 and columns 4j+1, 4j+2, so converting those
  pixels with OpenCV's integer maths and averaging them gives OpenCV's bytes exactly.
* the shot cutter's ``bgr[::N, ::N]`` (``subsample_bgr``): exact, the sampled pixels only.
* crops (``window_crops``): ``cv2.resize(cut_window(bgr, window, pad), (size, size))`` with the
  same sample positions and edge rule, in float, so a pixel may differ from OpenCV's
  fixed-point rounding by one or two levels (tested).

The conversion constants are OpenCV's 8-bit BT.601 limited-range ones (``color_yuv.simd.hpp``),
checked against ``cv2.cvtColor`` over every (Y, U, V) in the tests. Every function works on any
torch device, so the tests run them on the CPU.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

CY, CUB, CUG, CVG, CVR = 1220542, 2116026, -409993, -852492, 1673527
SHIFT = 20


@dataclass(frozen=True)
class DeviceFrame:
    """One decoded frame, packed I420 ``(H * 3 / 2, W)`` uint8 on a torch device, unconverted."""

    i420: torch.Tensor
    height: int
    width: int

    @property
    def nbytes(self) -> int:
        return self.height * self.width * 3 // 2


def split_planes(
    batch: torch.Tensor, height: int, width: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Views of Y ``(B, H, W)``, U and V ``(B, H/2, W/2)`` in packed frames ``(B, H*3/2, W)``."""
    flat = batch.reshape(batch.shape[0], -1)
    luma, quarter = height * width, (height // 2) * (width // 2)
    y = flat[:, :luma].reshape(-1, height, width)
    u = flat[:, luma : luma + quarter].reshape(-1, height // 2, width // 2)
    v = flat[:, luma + quarter : luma + 2 * quarter].reshape(-1, height // 2, width // 2)
    return y, u, v


def yuv_to_bgr(y: torch.Tensor, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """OpenCV's I420 -> BGR for each pixel, given same-shaped uint8 Y, U, V (U and V already
    taken at each pixel's 2x2 chroma block). Returns ``(*shape, 3)`` uint8, exact."""
    luma = (y.to(torch.int32) - 16).clamp_(min=0) * CY + (1 << (SHIFT - 1))
    uu = u.to(torch.int32) - 128
    vv = v.to(torch.int32) - 128
    blue = (luma + CUB * uu) >> SHIFT
    green = (luma + CVG * vv + CUG * uu) >> SHIFT
    red = (luma + CVR * vv) >> SHIFT
    return torch.stack((blue, green, red), dim=-1).clamp_(0, 255).to(torch.uint8)


_TABLES: dict[torch.device, torch.Tensor] = {}


def bgr_table(device: torch.device) -> torch.Tensor:
    """``(2**24, 3)`` uint8: ``yuv_to_bgr`` of every (Y, U, V), at index ``Y << 16 | U << 8 | V``.

    Built once per process and device (48 MiB). One lookup replaces the conversion's two dozen
    elementwise kernels: on a GPU shared by many workers, every tiny kernel costs GPU time.
    """
    table = _TABLES.get(device)
    if table is None:
        table = torch.empty((1 << 24, 3), dtype=torch.uint8, device=device)
        step = 1 << 20  # bounds the int32 temporaries
        for start in range(0, 1 << 24, step):
            index = torch.arange(start, start + step, dtype=torch.int32, device=device)
            table[start : start + step] = yuv_to_bgr(index >> 16, (index >> 8) & 255, index & 255)
        _TABLES[device] = table
    return table


def _bgr_at(
    planes: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
    rows: torch.Tensor,
    cols: torch.Tensor,
) -> torch.Tensor:
    """BGR ``(B, len(rows), len(cols), 3)`` of the pixels at ``rows`` x ``cols``."""
    y, u, v = planes
    rows_c, cols_c = rows // 2, cols // 2
    chroma = (u[:, rows_c][:, :, cols_c].to(torch.int32) << 8) | v[:, rows_c][:, :, cols_c]
    index = (y[:, rows][:, :, cols].to(torch.int32) << 16) | chroma
    return bgr_table(y.device)[index]


def quarter_size(height: int, width: int) -> tuple[int, int]:
    """OpenCV's output size for fx = fy = 0.25 (``cvRound``: half to even)."""
    return int(np.rint(height * 0.25)), int(np.rint(width * 0.25))


def quarter_is_exact(height: int, width: int) -> bool:
    """Whether ``quarter_bgr`` equals OpenCV for this frame size: even sides, and the last
    output pixel's 2x2 source block inside the frame (true for 720p, 1080p, 360p, ...)."""
    out_h, out_w = quarter_size(height, width)
    return (
        height % 2 == 0
        and width % 2 == 0
        and out_h > 0
        and out_w > 0
        and 4 * out_h - 2 < height
        and 4 * out_w - 2 < width
    )


def quarter_bgr(batch: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Packed frames ``(B, H*3/2, W)`` -> ``(B, h, w, 3)`` uint8 BGR, equal to OpenCV's
    0.25 INTER_LINEAR resize of the converted frame when ``quarter_is_exact(height, width)``."""
    out_h, out_w = quarter_size(height, width)
    planes = split_planes(batch, height, width)
    base_rows = torch.arange(out_h, device=batch.device) * 4
    base_cols = torch.arange(out_w, device=batch.device) * 4
    total: torch.Tensor | None = None
    for dy in (1, 2):
        for dx in (1, 2):
            bgr = _bgr_at(planes, base_rows + dy, base_cols + dx).to(torch.int32)
            total = bgr if total is None else total + bgr
    assert total is not None
    return ((total + 2) >> 2).to(torch.uint8)


def subsample_bgr(batch: torch.Tensor, height: int, width: int, step: int) -> torch.Tensor:
    """``bgr[::step, ::step]`` of each packed frame, ``(B, ceil(H/step), ceil(W/step), 3)``."""
    rows = torch.arange(0, height, step, device=batch.device)
    cols = torch.arange(0, width, step, device=batch.device)
    return _bgr_at(split_planes(batch, height, width), rows, cols)


def _even_union(windows: np.ndarray, height: int, width: int) -> tuple[int, int, int, int] | None:
    """The smallest even-aligned rectangle holding every window's part inside the frame."""
    x1 = max(int(windows[:, 0].min()), 0) & ~1
    y1 = max(int(windows[:, 1].min()), 0) & ~1
    x2 = min(int(windows[:, 2].max()), width)
    y2 = min(int(windows[:, 3].max()), height)
    x2, y2 = x2 + (x2 & 1), y2 + (y2 & 1)  # the frame's sides are even: never past them
    if x2 <= x1 or y2 <= y1:
        return None
    return x1, y1, x2, y2


def _sample_positions(
    start: torch.Tensor, length: torch.Tensor, size: int, device: torch.device
) -> torch.Tensor:
    """OpenCV INTER_LINEAR source positions ``(B, size)``: the output pixel centre mapped into
    the window, clamped to the window's first and last pixel (OpenCV's edge rule)."""
    steps = (torch.arange(size, device=device, dtype=torch.float32) + 0.5).unsqueeze(0)
    scale = (length.to(torch.float32) / size).unsqueeze(1)
    inside = (steps * scale - 0.5).clamp(min=0.0)
    inside = torch.minimum(inside, (length - 1).to(torch.float32).unsqueeze(1))
    return start.to(torch.float32).unsqueeze(1) + inside


def window_crops(
    batch: torch.Tensor,
    height: int,
    width: int,
    windows: np.ndarray,
    size: int,
    pad_value: int,
) -> torch.Tensor:
    """Square BGR crops ``(B, size, size, 3)`` uint8 of one window per packed frame.

    Each is ``cv2.resize(cut_window(bgr, window, pad_value), (size, size))`` up to OpenCV's
    fixed-point rounding: the window may leave the frame, and the part outside reads as
    ``pad_value``. Only the union of the windows' in-frame parts is converted.

    Args:
        batch: packed frames ``(B, H*3/2, W)`` uint8 on any device.
        windows: ``(B, 4)`` int x1, y1, x2, y2 (pixels, end exclusive), non-empty.
    """
    count = batch.shape[0]
    device = batch.device
    windows = np.asarray(windows, dtype=np.int64).reshape(count, 4)
    if np.any(windows[:, 2] <= windows[:, 0]) or np.any(windows[:, 3] <= windows[:, 1]):
        raise ValueError("empty crop window")
    region = _even_union(windows, height, width)
    if region is None:  # every window lies outside the frame: all padding
        return torch.full((count, size, size, 3), pad_value, dtype=torch.uint8, device=device)
    rx1, ry1, rx2, ry2 = region
    planes = split_planes(batch, height, width)
    rows = torch.arange(ry1, ry2, device=device)
    cols = torch.arange(rx1, rx2, device=device)
    pixels = _bgr_at(planes, rows, cols).permute(0, 3, 1, 2).to(torch.float32) - pad_value
    boxes = torch.as_tensor(windows, device=device)
    xs = _sample_positions(boxes[:, 0], boxes[:, 2] - boxes[:, 0], size, device) - rx1
    ys = _sample_positions(boxes[:, 1], boxes[:, 3] - boxes[:, 1], size, device) - ry1
    # grid_sample's normalised coordinates (align_corners=False): pixel i is at (2i + 1)/n - 1.
    grid_x = ((2 * xs + 1) / (rx2 - rx1) - 1).unsqueeze(1).expand(count, size, size)
    grid_y = ((2 * ys + 1) / (ry2 - ry1) - 1).unsqueeze(2).expand(count, size, size)
    grid = torch.stack((grid_x, grid_y), dim=-1)
    # Zero padding of (pixel - pad) is the pad value outside the frame, blended exactly as
    # OpenCV blends the grey border that cut_window adds.
    sampled = F.grid_sample(
        pixels, grid, mode="bilinear", padding_mode="zeros", align_corners=False
    )
    crops = (sampled + pad_value).round_().clamp_(0, 255).to(torch.uint8)
    return crops.permute(0, 2, 3, 1).contiguous()


__all__ = [
    "DeviceFrame",
    "bgr_table",
    "quarter_bgr",
    "quarter_is_exact",
    "quarter_size",
    "split_planes",
    "subsample_bgr",
    "window_crops",
    "yuv_to_bgr",
]
