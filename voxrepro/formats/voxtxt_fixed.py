"""Fixed-width decoding of VoxCeleb2 frame rows: the common case, with no per-row Python work.

Almost every published VoxCeleb2 row is exactly ``FFFFFF \\tD.DDD \\tD.DDD \\tD.DDD \\tD.DDD \\n``:
36 bytes, a 6-digit frame and four values in [0, 10) with 3 decimals. Such a block is decoded
as a (rows, 36) byte matrix: every separator byte is compared with the template, every digit
position is checked to be a digit, and the numbers are dot products of digits with powers of ten.
Anything else (negative or larger values, pixel integers, other spacing) returns None and the
caller uses the general path. ``k / 1000`` is the correctly rounded double of ``"0.kkk"``, so
the values are bit-identical to ``float(text)``.
"""

from __future__ import annotations

import numpy as np

from voxrepro.types import BoxArray, FrameArray

_TEMPLATE = np.frombuffer(b"000000 \t0.000 \t0.000 \t0.000 \t0.000 \n", dtype=np.uint8)
ROW_BYTES = _TEMPLATE.size  # 36
_DIGIT_POS = np.flatnonzero(
    np.equal(_TEMPLATE, ord("0"))
)  # 6 frame digits, then 4 x 4 value digits
_FIXED_POS = np.flatnonzero(
    np.not_equal(_TEMPLATE, ord("0"))
)  # spaces, tabs, decimal points, newline
_FIXED_BYTES = _TEMPLATE[_FIXED_POS]
_FRAME_WEIGHTS = 10 ** np.arange(5, -1, -1, dtype=np.int64)
_VALUE_WEIGHTS = np.array([1000, 100, 10, 1], dtype=np.int64)


def decode_fixed_rows(rows: bytes) -> tuple[FrameArray, BoxArray] | None:
    """(frames (N,) int64, boxes (N, 4) float64) of a fixed-width row block, else None."""
    count, remainder = divmod(len(rows), ROW_BYTES)
    if remainder or count == 0:
        return None
    table = np.frombuffer(rows, dtype=np.uint8).reshape(count, ROW_BYTES)
    if not (table[:, _FIXED_POS] == _FIXED_BYTES).all():
        return None
    digits = table[:, _DIGIT_POS] - np.uint8(ord("0"))  # bytes below "0" wrap to > 9
    if digits.max() > 9:
        return None
    digits = digits.astype(np.int64)
    frames = digits[:, :6] @ _FRAME_WEIGHTS
    boxes = (digits[:, 6:].reshape(count, 4, 4) @ _VALUE_WEIGHTS) / 1000.0
    return frames, boxes
