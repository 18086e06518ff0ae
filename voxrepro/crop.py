"""Crop geometry: box -> crop window, per mode. Pure numpy, no I/O.

Implements spec §7 (smoothing and the UP / SEED crop windows), §10.4 (the vox2-compatible
"published box is the window, kept inside the frame" mode) and CelebV-HQ's own crop rule
(metafile-formats.md, "CelebV-HQ").

Conventions used throughout:

* A **window** is an int64 row ``(x1, y1, x2, y2)`` in pixels of the original frame, with
  ``x2``/``y2`` exclusive, so its size is ``(x2 - x1, y2 - y1)``. Windows may leave the frame;
  :func:`cut_window` pads the outside part.
* Box arrays are (N, 4) float64: ``xywh`` (x, y, width, height) or ``xyxy`` (x1, y1, x2, y2),
  normalised (fractions of frame width / height) or pixels, as each function says.

Quirks kept for parity (spec §13, "replicate"):

* ``median_filter_zero_pad`` zero-pads the ends exactly like ``scipy.signal.medfilt``, so the first
  and last ``kernel // 2`` smoothed values lean towards smaller values.
* ``reference_windows`` / ``seed_centred_windows`` reproduce UP's / SEED's ``int()`` truncation
  *in padded coordinates* (pad ``bsi = int(1.8 bs)``) and only then map back by ``- bsi``. For
  in-frame faces this equals ``floor`` in original coordinates; the float expressions are evaluated
  in UP's order so the last-bit rounding matches too.
* Not replicated (UP bug): when the smoothed face centre lies far outside the frame, UP's numpy
  slice of the padded frame gets a negative start (wraps around) or an end past the padded array
  (truncated, non-square crop). Our windows stay square and ``cut_window`` pads with 110 instead.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

#: Grey level UP and SEED pad with (all channels), spec §7.
PAD_VALUE = 110
#: UP / SEED default crop scale ``cs`` (spec §7, §12).
CROP_SCALE = 0.4
#: UP / SEED median-filter kernel for x, y and s (spec §7).
MEDFILT_KERNEL = 13
#: CelebV-HQ expands its normalised box by this much on each side.
CELEBVHQ_EXPAND = 0.02

IntWindows = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def _as_boxes(boxes: npt.ArrayLike, name: str = "boxes") -> FloatArray:
    array = np.asarray(boxes, dtype=np.float64)
    if array.ndim == 1 and array.shape[0] == 4:
        array = array[None, :]
    if array.ndim != 2 or array.shape[1] != 4:
        raise ValueError(f"{name} must have shape (N, 4), got {array.shape}")
    return array


def _round_half_up(values: FloatArray) -> FloatArray:
    # Half-up rather than numpy's half-to-even, so that x.5 always moves the same way.
    return np.floor(values + 0.5)


def _check_frame_size(frame_w: int, frame_h: int) -> None:
    if frame_w <= 0 or frame_h <= 0:
        raise ValueError(f"frame size must be positive, got {frame_w}x{frame_h}")


# --- units -----------------------------------------------------------------------------------


def normalised_to_pixels(boxes_xywh: npt.ArrayLike, width: int, height: int) -> FloatArray:
    """Scale normalised x, y, w, h boxes to pixels of a ``width`` x ``height`` frame.

    Args:
        boxes_xywh: (N, 4) boxes as fractions of the frame's width (x, w) and height (y, h).
        width: frame width in pixels.
        height: frame height in pixels.

    Returns:
        (N, 4) float64 pixel boxes x, y, w, h (not rounded).
    """
    _check_frame_size(width, height)
    return _as_boxes(boxes_xywh) * np.array([width, height, width, height], dtype=np.float64)


def pixels_to_normalised(boxes_xywh: npt.ArrayLike, width: int, height: int) -> FloatArray:
    """Inverse of :func:`normalised_to_pixels`: pixel x, y, w, h -> fractions of the frame."""
    _check_frame_size(width, height)
    return _as_boxes(boxes_xywh) / np.array([width, height, width, height], dtype=np.float64)


# --- windows from published boxes --------------------------------------------------------------


def shift_inside(windows: npt.ArrayLike, frame_w: int, frame_h: int) -> IntWindows:
    """Move windows inside the frame, keeping their size (the vox2 mode: never padded).

    A window that sticks out on one side is shifted back, so the face ends up off-centre rather
    than padded. A window larger than the frame on an axis is clamped to cover that whole axis.

    Args:
        windows: (N, 4) int windows x1, y1, x2, y2 (pixels, x2/y2 exclusive).
        frame_w: frame width in pixels.
        frame_h: frame height in pixels.

    Returns:
        (N, 4) int64 windows lying within ``[0, frame_w) x [0, frame_h)``.
    """
    _check_frame_size(frame_w, frame_h)
    out = np.array(_as_boxes(windows, "windows"), dtype=np.int64)
    for lo, hi, limit in ((0, 2, frame_w), (1, 3, frame_h)):
        size = out[:, hi] - out[:, lo]
        if np.any(size <= 0):
            raise ValueError("windows must have x2 > x1 and y2 > y1")
        start = np.clip(out[:, lo], 0, np.maximum(limit - size, 0))
        out[:, lo] = start
        out[:, hi] = np.minimum(start + size, limit)
    return out


def vox2_windows(boxes_px_xywh: npt.ArrayLike, frame_w: int, frame_h: int) -> IntWindows:
    """Crop windows for the vox2-compatible mode (spec §10.4): the published box IS the window.

    Rounding: the corner is rounded half-up to the nearest pixel and the size is rounded
    separately (at least 1 px), so every frame's window keeps the published size wherever it
    sits. Nearest rounding is the best inverse of VGG's pixel -> ``%.3f`` fraction step (error at
    most 0.5 px, against up to 1 px for truncation). The window is then passed through
    :func:`shift_inside` (no padding, shifted back inside, clamped only if larger than the frame).

    Args:
        boxes_px_xywh: (N, 4) pixel boxes x, y, w, h of the original frame.
        frame_w: frame width in pixels.
        frame_h: frame height in pixels.

    Returns:
        (N, 4) int64 windows x1, y1, x2, y2 inside the frame.
    """
    boxes = _as_boxes(boxes_px_xywh)
    x1 = _round_half_up(boxes[:, 0])
    y1 = _round_half_up(boxes[:, 1])
    w = np.maximum(_round_half_up(boxes[:, 2]), 1)
    h = np.maximum(_round_half_up(boxes[:, 3]), 1)
    windows = np.stack([x1, y1, x1 + w, y1 + h], axis=1).astype(np.int64)
    return shift_inside(windows, frame_w, frame_h)


def centred_windows(boxes_px_xywh: npt.ArrayLike) -> IntWindows:
    """Square windows of side ``max(w, h)`` centred on each box's centre (may leave the frame).

    Side and corner are rounded half-up to whole pixels; the side is at least 1 px.

    Args:
        boxes_px_xywh: (N, 4) pixel boxes x, y, w, h.

    Returns:
        (N, 4) int64 windows x1, y1, x2, y2 (pad with :func:`cut_window` where they leave).
    """
    boxes = _as_boxes(boxes_px_xywh)
    side = np.maximum(_round_half_up(np.maximum(boxes[:, 2], boxes[:, 3])), 1)
    cx = boxes[:, 0] + boxes[:, 2] / 2
    cy = boxes[:, 1] + boxes[:, 3] / 2
    x1 = _round_half_up(cx - side / 2)
    y1 = _round_half_up(cy - side / 2)
    return np.stack([x1, y1, x1 + side, y1 + side], axis=1).astype(np.int64)


def celebvhq_window(
    bbox_tblr: npt.ArrayLike, frame_w: int, frame_h: int, *, chroma_align: int = 2
) -> tuple[int, int, int, int]:
    """CelebV-HQ's own crop rule for one clip's box (one box for the whole clip).

    Mirrors CelebV-HQ's ``download_and_process.py``: expand the normalised box by 0.02 on each
    side (clamped to [0, 1]); convert to pixels with Python ``round`` (half to even); take
    ``c = min(h, w) // 2`` and the square ``[centre - c, centre + c)`` on both axes (the centre
    may be a half pixel); then ffmpeg's ``crop`` filter truncates x / y to int and, without
    ``exact=1``, rounds x, y, w, h down to a multiple of the chroma subsampling (2 for the
    yuv420p YouTube streams; pass ``chroma_align=1`` for exact cropping).

    Args:
        bbox_tblr: normalised (top, bottom, left, right) as in ``celebvhq_info.json``.
        frame_w: source frame width in pixels.
        frame_h: source frame height in pixels.
        chroma_align: ffmpeg's alignment for x, y, w, h (1 = exact).

    Returns:
        One window ``(x1, y1, x2, y2)`` in source pixels, square, inside the frame.
    """
    _check_frame_size(frame_w, frame_h)
    if chroma_align < 1:
        raise ValueError(f"chroma_align must be >= 1, got {chroma_align}")
    values = [float(v) for v in np.asarray(bbox_tblr, dtype=np.float64).reshape(-1)]
    if len(values) != 4:
        raise ValueError(f"bbox must be (top, bottom, left, right), got {len(values)} values")
    top, bottom, left, right = values
    if not (bottom > top and right > left):
        raise ValueError(f"bbox must have bottom > top and right > left, got {values}")
    top, bottom = max(top - CELEBVHQ_EXPAND, 0.0), min(bottom + CELEBVHQ_EXPAND, 1.0)
    left, right = max(left - CELEBVHQ_EXPAND, 0.0), min(right + CELEBVHQ_EXPAND, 1.0)
    top_px, bottom_px = round(top * frame_h), round(bottom * frame_h)
    left_px, right_px = round(left * frame_w), round(right * frame_w)
    half = min(bottom_px - top_px, right_px - left_px) // 2
    if half <= 0:
        raise ValueError(f"bbox {values} is under 2 pixels on a {frame_w}x{frame_h} frame")
    centre_y = (top_px + bottom_px) / 2
    centre_x = (left_px + right_px) / 2
    side = (2 * half) // chroma_align * chroma_align
    x = int(centre_x - half) // chroma_align * chroma_align
    y = int(centre_y - half) // chroma_align * chroma_align
    # ffmpeg keeps the crop inside the picture; the square already is, this is belt and braces.
    x = min(max(x, 0), frame_w - side)
    y = min(max(y, 0), frame_h - side)
    return (x, y, x + side, y + side)


# --- cutting pixels ----------------------------------------------------------------------------


def cut_window(
    frame: npt.NDArray[np.generic], window: npt.ArrayLike, pad_value: int = PAD_VALUE
) -> npt.NDArray[np.generic]:
    """Return the window's pixels, filling the part outside the frame with ``pad_value``.

    Fast path: a window inside the frame is a plain slice (a view, not a copy).

    Args:
        frame: H x W (x C) image.
        window: ``(x1, y1, x2, y2)`` ints in the frame's pixels, x2/y2 exclusive.
        pad_value: value for pixels outside the frame (UP/SEED use 110).

    Returns:
        Array of shape ``(y2 - y1, x2 - x1[, C])`` and the frame's dtype.
    """
    x1, y1, x2, y2 = (int(v) for v in np.asarray(window).reshape(-1)[:4])
    if x2 <= x1 or y2 <= y1:
        raise ValueError(f"empty window {(x1, y1, x2, y2)}")
    height, width = frame.shape[:2]
    if x1 >= 0 and y1 >= 0 and x2 <= width and y2 <= height:
        return frame[y1:y2, x1:x2]
    out = np.full((y2 - y1, x2 - x1, *frame.shape[2:]), pad_value, dtype=frame.dtype)
    ix1, iy1 = max(x1, 0), max(y1, 0)
    ix2, iy2 = min(x2, width), min(y2, height)
    if ix2 > ix1 and iy2 > iy1:
        out[iy1 - y1 : iy2 - y1, ix1 - x1 : ix2 - x1] = frame[iy1:iy2, ix1:ix2]
    return out


# --- pipeline side (spec §7) -------------------------------------------------------------------


def median_filter_zero_pad(values: npt.ArrayLike, kernel: int) -> FloatArray:
    """Running median with zero-padded ends, equal to ``scipy.signal.medfilt(values, kernel)``.

    Kept for parity (spec §7): the zeros bias the first and last ``kernel // 2`` outputs towards
    smaller values; e.g. the last 6 outputs of a rising ramp (kernel 13) all equal the value six
    frames from the end.

    Args:
        values: (N,) series.
        kernel: odd window length >= 1.

    Returns:
        (N,) float64 filtered series.
    """
    if kernel < 1 or kernel % 2 == 0:
        raise ValueError(f"kernel must be a positive odd integer, got {kernel}")
    series = np.asarray(values, dtype=np.float64)
    if series.ndim != 1:
        raise ValueError(f"values must be 1-D, got shape {series.shape}")
    if series.size == 0:
        return series.copy()
    half = kernel // 2
    padded = np.concatenate([np.zeros(half), series, np.zeros(half)])
    windows = np.lib.stride_tricks.sliding_window_view(padded, kernel)
    return np.median(windows, axis=1)


def smooth_track(
    boxes_xyxy: npt.ArrayLike, kernel: int = MEDFILT_KERNEL
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """UP's per-track smoothing (spec §7): centre and half-size, each median filtered.

    Args:
        boxes_xyxy: (N, 4) interpolated track boxes x1, y1, x2, y2 in original-frame pixels.
        kernel: median kernel (13 in UP/SEED), zero-padded like ``scipy.signal.medfilt``.

    Returns:
        ``(cx, cy, s)``: (N,) float64 arrays, pixels; ``s = max(h, w) / 2``.
    """
    boxes = _as_boxes(boxes_xyxy, "boxes_xyxy")
    half_size = np.maximum(boxes[:, 3] - boxes[:, 1], boxes[:, 2] - boxes[:, 0]) / 2
    centre_y = (boxes[:, 1] + boxes[:, 3]) / 2
    centre_x = (boxes[:, 0] + boxes[:, 2]) / 2
    return (
        median_filter_zero_pad(centre_x, kernel),
        median_filter_zero_pad(centre_y, kernel),
        median_filter_zero_pad(half_size, kernel),
    )


def pad_amount(s: npt.ArrayLike, crop_scale: float = CROP_SCALE) -> npt.NDArray[np.int64]:
    """UP's padding ``bsi = int(bs * (1 + 2 cs))`` in pixels, per frame."""
    bs = np.asarray(s, dtype=np.float64)
    return np.trunc(bs * (1 + 2 * crop_scale)).astype(np.int64)


def _padded_windows(
    cx: npt.ArrayLike, cy: npt.ArrayLike, s: npt.ArrayLike, crop_scale: float, centred: bool
) -> IntWindows:
    centre_x = np.asarray(cx, dtype=np.float64)
    centre_y = np.asarray(cy, dtype=np.float64)
    bs = np.asarray(s, dtype=np.float64)
    if not (centre_x.shape == centre_y.shape == bs.shape) or bs.ndim != 1:
        raise ValueError("cx, cy and s must be 1-D arrays of the same length")
    bsi = pad_amount(bs, crop_scale)
    # Same operand order as UP, so float rounding and int() truncation match bit for bit.
    my = centre_y + bsi
    mx = centre_x + bsi
    half_width = bs * (1 + crop_scale)
    if centred:
        top, bottom = my - half_width, my + half_width
    else:
        top, bottom = my - bs, my + bs * (1 + 2 * crop_scale)
    left, right = mx - half_width, mx + half_width
    padded = np.stack([np.trunc(v) for v in (left, top, right, bottom)], axis=1).astype(np.int64)
    return padded - bsi[:, None]


def reference_windows(
    cx: npt.ArrayLike, cy: npt.ArrayLike, s: npt.ArrayLike, crop_scale: float = CROP_SCALE
) -> IntWindows:
    """UP's non-centred crop window per frame (spec §7 step 2), in original-frame pixels.

    Rows ``[int(my - bs), int(my + bs(1 + 2cs)))`` and columns
    ``[int(mx - bs(1 + cs)), int(mx + bs(1 + cs)))`` in coordinates padded by
    ``bsi = int(bs(1 + 2cs))``, then shifted back by ``bsi``. The face centre sits at
    1/2.8 of the height from the top (cs = 0.4). Cut with ``cut_window(..., pad_value=110)``.

    Args:
        cx: (N,) smoothed centre x, pixels.
        cy: (N,) smoothed centre y, pixels.
        s: (N,) smoothed half-size ``bs``, pixels.
        crop_scale: ``cs`` (0.4 in UP and SEED).

    Returns:
        (N, 4) int64 windows x1, y1, x2, y2 (may leave the frame).
    """
    return _padded_windows(cx, cy, s, crop_scale, centred=False)


def seed_centred_windows(
    cx: npt.ArrayLike, cy: npt.ArrayLike, s: npt.ArrayLike, crop_scale: float = CROP_SCALE
) -> IntWindows:
    """SEED's centred crop window per frame (spec §7 step 3), in original-frame pixels.

    Same columns as :func:`reference_windows`; rows ``[int(my - bs(1 + cs)), int(my + bs(1 + cs)))``
    in padded coordinates, so the face centre is in the middle of the window.

    Returns:
        (N, 4) int64 windows x1, y1, x2, y2 (may leave the frame).
    """
    return _padded_windows(cx, cy, s, crop_scale, centred=True)
