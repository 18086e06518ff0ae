"""The fast txt paths must agree exactly with the careful line-by-line parser."""

from __future__ import annotations

import numpy as np
from test_formats_factory import vox_text

from voxrepro.formats.voxtxt import parse_txt_fast
from voxrepro.formats.voxtxt_careful import parse_txt_careful
from voxrepro.formats.voxtxt_fixed import decode_fixed_rows


def test_fixed_width_values_are_bit_identical_to_float_parsing() -> None:
    texts = [f"{k // 1000}.{k % 1000:03d}" for k in range(10_000)]  # every 0.000 .. 9.999
    rows = "".join(
        f"{i:06d} \t{texts[i]} \t{texts[-1 - i]} \t{texts[(7 * i) % 10_000]} \t{texts[0]} \n"
        for i in range(10_000)
    ).encode()
    decoded = decode_fixed_rows(rows)
    assert decoded is not None
    frames, boxes = decoded
    np.testing.assert_array_equal(frames, np.arange(10_000))
    expected = np.array(
        [
            [float(texts[i]), float(texts[-1 - i]), float(texts[(7 * i) % 10_000]), 0.0]
            for i in range(10_000)
        ]
    )
    assert boxes.tobytes() == expected.tobytes()  # bit for bit, not approximately


def test_rows_outside_the_fixed_width_case_fall_back() -> None:
    for row in (
        "000001 \t-0.012 \t0.067 \t0.424 \t0.753 \n",  # negative value
        "000001 \t223 \t80 \t130 \t130 \n",  # pixel integers
        "1000001 \t0.319 \t0.067 \t0.424 \t0.753\n",  # 7-digit frame, no trailing space
        "000001\t0.319\t0.067\t0.424\t0.753\t\n",  # other spacing, same length
    ):
        assert decode_fixed_rows(row.encode()) is None, row
    text = vox_text("id00012", "_raOc3-IRsw", [5, 6], [(-0.012, 0.0, 0.5, 1.02), (0.1, 10.5, 1, 1)])
    fast = parse_txt_fast(text.encode())  # general fast path: regex + numpy
    careful = parse_txt_careful(text.encode(), "x", [])
    assert fast is not None and careful is not None
    assert fast.boxes.tobytes() == careful.boxes.tobytes()


def test_fast_path_never_accepts_a_file_the_careful_path_reads_differently() -> None:
    base = vox_text("id00012", "_raOc3-IRsw", range(100, 140), [(0.1, 0.2, 0.3, 0.4)] * 40).encode()
    rng = np.random.default_rng(7)
    alphabet = b"0123456789.- \t\nx"
    accepted = 0
    for _ in range(2000):
        data = bytearray(base)
        for position in rng.integers(0, len(data), size=int(rng.integers(1, 3))):
            data[position] = alphabet[int(rng.integers(0, len(alphabet)))]
        fast = parse_txt_fast(bytes(data))
        problems: list = []
        careful = parse_txt_careful(bytes(data), "x", problems)  # must never raise
        if fast is None:
            continue
        accepted += 1
        assert careful is not None and problems == [], bytes(data)
        assert fast.header == careful.header
        np.testing.assert_array_equal(fast.frames, careful.frames)
        assert fast.boxes.tobytes() == careful.boxes.tobytes()
        np.testing.assert_array_equal(fast.row_lines, careful.row_lines)
    assert accepted > 100  # mutations that keep a valid layout (e.g. digit changes) happen
