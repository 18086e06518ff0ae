"""Crop geometry (voxrepro.crop): hand-worked windows, spec §7 worked example, UP parity."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import medfilt

from voxrepro import crop

# --- units ---------------------------------------------------------------------------------------


def test_normalised_pixels_round_trip() -> None:
    boxes = np.array([[0.123, 0.136, 0.422, 0.749], [0.0, 0.5, 1.0, 0.25]])
    px = crop.normalised_to_pixels(boxes, 1280, 720)
    np.testing.assert_allclose(px[0], [157.44, 97.92, 540.16, 539.28])
    np.testing.assert_allclose(px[1], [0.0, 360.0, 1280.0, 180.0])
    np.testing.assert_allclose(crop.pixels_to_normalised(px, 1280, 720), boxes)


def test_units_reject_bad_shapes_and_sizes() -> None:
    with pytest.raises(ValueError, match=r"shape \(N, 4\)"):
        crop.normalised_to_pixels(np.zeros((3, 3)), 10, 10)
    with pytest.raises(ValueError, match="frame size"):
        crop.pixels_to_normalised(np.zeros((1, 4)), 0, 10)


# --- vox2 mode: published box is the window, kept inside -------------------------------------


def test_vox2_window_inside_frame_is_rounded_box() -> None:
    # x 100.4 -> 100, y 50.5 -> 51 (half-up), w 200.6 -> 201, h 199.5 -> 200
    got = crop.vox2_windows([[100.4, 50.5, 200.6, 199.5]], 640, 360)
    np.testing.assert_array_equal(got, [[100, 51, 301, 251]])


def test_vox2_rounding_is_nearest_not_truncation() -> None:
    got = crop.vox2_windows([[10.9, 20.7, 99.6, 99.5]], 640, 360)
    np.testing.assert_array_equal(got, [[11, 21, 111, 121]])


@pytest.mark.parametrize(
    ("box", "expected"),
    [
        ([-30.0, 100.0, 200.0, 200.0], [0, 100, 200, 300]),  # left edge: shifted right
        ([500.0, 100.0, 200.0, 200.0], [440, 100, 640, 300]),  # right edge: shifted left
        ([100.0, -50.0, 200.0, 200.0], [100, 0, 300, 200]),  # top edge: shifted down
        ([100.0, 250.0, 200.0, 200.0], [100, 160, 300, 360]),  # bottom edge: shifted up
        ([-10.0, -10.0, 700.0, 100.0], [0, 0, 640, 100]),  # wider than frame: clamped in x
        ([300.0, -100.0, 100.0, 500.0], [300, 0, 400, 360]),  # taller than frame: clamped in y
    ],
)
def test_vox2_window_shifted_inside_keeping_size(box: list[float], expected: list[int]) -> None:
    got = crop.vox2_windows([box], 640, 360)
    np.testing.assert_array_equal(got, [expected])
    assert got.dtype == np.int64


def test_shift_inside_many_windows_and_rejects_empty() -> None:
    windows = np.array([[-5, -5, 5, 5], [630, 350, 650, 370], [0, 0, 10, 10]])
    np.testing.assert_array_equal(
        crop.shift_inside(windows, 640, 360), [[0, 0, 10, 10], [620, 340, 640, 360], [0, 0, 10, 10]]
    )
    with pytest.raises(ValueError, match="x2 > x1"):
        crop.shift_inside([[5, 5, 5, 10]], 640, 360)


# --- centred windows ---------------------------------------------------------------------------


def test_centred_window_square_of_larger_side() -> None:
    # box 100 wide, 50 high at (10, 20): centre (60, 45), side 100
    np.testing.assert_array_equal(crop.centred_windows([[10, 20, 100, 50]]), [[10, -5, 110, 95]])
    # 31 x 20 box: side 31, centre (15.5, 10) -> x1 = round(0) = 0, y1 = round(-5.5) = -5
    np.testing.assert_array_equal(crop.centred_windows([[0, 0, 31, 20]]), [[0, -5, 31, 26]])


# --- cut_window ------------------------------------------------------------------------------


def _frame(height: int = 6, width: int = 8, channels: int = 3) -> np.ndarray:
    values = np.arange(height * width * channels, dtype=np.uint16) % 97
    return values.astype(np.uint8).reshape(height, width, channels)


def test_cut_window_inside_is_a_view() -> None:
    frame = _frame()
    cut = crop.cut_window(frame, (2, 1, 6, 5))
    np.testing.assert_array_equal(cut, frame[1:5, 2:6])
    assert np.shares_memory(cut, frame)


def test_cut_window_pads_outside_part() -> None:
    frame = _frame()
    cut = crop.cut_window(frame, (-2, -1, 3, 2), pad_value=110)
    assert cut.shape == (3, 5, 3)
    assert (cut[0] == 110).all() and (cut[:, :2] == 110).all()
    np.testing.assert_array_equal(cut[1:, 2:], frame[0:2, 0:3])
    right_bottom = crop.cut_window(frame, (6, 4, 10, 8), pad_value=7)
    np.testing.assert_array_equal(right_bottom[:2, :2], frame[4:6, 6:8])
    assert (right_bottom[2:] == 7).all() and (right_bottom[:, 2:] == 7).all()


def test_cut_window_fully_outside_and_grayscale() -> None:
    gray = _frame()[:, :, 0]
    cut = crop.cut_window(gray, (20, 20, 24, 23), pad_value=110)
    assert cut.shape == (3, 4) and (cut == 110).all()
    with pytest.raises(ValueError, match="empty window"):
        crop.cut_window(gray, (3, 3, 3, 5))


# --- CelebV-HQ -------------------------------------------------------------------------------


def test_celebvhq_window_hand_worked() -> None:
    # expanded: top .18, bottom .62, left .38, right .62 -> px 130, 446, 486, 794 (1280x720)
    # h 316, w 308 -> half 154; centre (640, 288) -> x 486, y 134, side 308
    assert crop.celebvhq_window((0.2, 0.6, 0.4, 0.6), 1280, 720) == (486, 134, 794, 442)


def test_celebvhq_window_half_pixel_centre_and_chroma_alignment() -> None:
    # 100x100 frame, box (0.3, 0.71, 0.3, 0.6) -> expanded px top 28, bottom 73, left 28,
    # right 62 -> half = min(45, 34) // 2 = 17; centre y 50.5, x 45 -> y int(33.5) = 33, x 28
    exact = crop.celebvhq_window((0.3, 0.71, 0.3, 0.6), 100, 100, chroma_align=1)
    assert exact == (28, 33, 62, 67)
    # ffmpeg without exact=1 on yuv420p floors x/y to even
    assert crop.celebvhq_window((0.3, 0.71, 0.3, 0.6), 100, 100) == (28, 32, 62, 66)


def test_celebvhq_window_clamps_expansion_at_frame_edge() -> None:
    # top 0.01 -> expanded to 0 (not -0.01); left 0.9 -> right clamped to 1.0
    # px: top 0, bottom round(0.52*200)=104, left round(0.88*400)=352, right 400
    # half = min(104, 48) // 2 = 24; centre y 52, x 376 -> (352, 28, 400, 76)
    assert crop.celebvhq_window((0.01, 0.5, 0.9, 0.99), 400, 200) == (352, 28, 400, 76)


def test_celebvhq_window_rejects_inverted_box() -> None:
    with pytest.raises(ValueError, match="bottom > top"):
        crop.celebvhq_window((0.6, 0.2, 0.4, 0.6), 1280, 720)


# --- median filter (spec §7, replicate) ----------------------------------------------------


@pytest.mark.filterwarnings("ignore:kernel_size exceeds volume extent")
@pytest.mark.parametrize("kernel", [1, 3, 9, 13])
@pytest.mark.parametrize("length", [1, 5, 12, 13, 40])
def test_median_filter_matches_scipy_medfilt(kernel: int, length: int) -> None:
    rng = np.random.default_rng(kernel * 100 + length)
    values = rng.normal(300.0, 50.0, size=length)
    np.testing.assert_array_equal(
        crop.median_filter_zero_pad(values, kernel), medfilt(values, kernel)
    )


def test_median_filter_spec_ramp_example() -> None:
    ramp = np.arange(100.0, 130.0)  # 30 values, rising
    out = crop.median_filter_zero_pad(ramp, 13)
    # the last 6 outputs are clamped to the value 6 frames from the end (zero padding)
    assert (out[-6:] == ramp[-7]).all()
    np.testing.assert_array_equal(out[6:-6], ramp[6:-6])
    # a falling ramp is biased at the start instead
    falling = crop.median_filter_zero_pad(ramp[::-1], 13)
    assert (falling[:6] == ramp[::-1][6]).all()


def test_median_filter_rejects_even_kernel() -> None:
    with pytest.raises(ValueError, match="odd"):
        crop.median_filter_zero_pad([1.0, 2.0], 4)
    assert crop.median_filter_zero_pad([], 13).shape == (0,)


def test_smooth_track_centre_and_half_size() -> None:
    boxes = np.tile([500.0, 200.0, 700.0, 440.0], (20, 1))
    boxes[7] = [0.0, 0.0, 1000.0, 1000.0]  # one outlier is removed by the median
    cx, cy, s = crop.smooth_track(boxes)
    np.testing.assert_array_equal(cx, np.full(20, 600.0))
    np.testing.assert_array_equal(cy, np.full(20, 320.0))
    np.testing.assert_array_equal(s, np.full(20, 120.0))


# --- UP / SEED windows (spec §7) --------------------------------------------------------------


def test_spec_worked_example() -> None:
    cx, cy, s = crop.smooth_track([[500.0, 200.0, 700.0, 440.0]], kernel=1)
    assert (cx[0], cy[0], s[0]) == (600.0, 320.0, 120.0)
    assert crop.pad_amount(s)[0] == 216
    up = crop.reference_windows(cx, cy, s)
    np.testing.assert_array_equal(up, [[432, 200, 768, 536]])  # rows 200..536, cols 432..768
    assert up[0, 2] - up[0, 0] == up[0, 3] - up[0, 1] == 336
    np.testing.assert_array_equal(crop.seed_centred_windows(cx, cy, s), [[432, 152, 768, 488]])


def test_reference_window_truncates_in_padded_coordinates() -> None:
    # cy - bs = -10.2: int() in original coordinates would give -10, UP's order gives -11
    # (bsi = int(36.9) = 36; int(46.3 - 20.5) = 25; 25 - 36 = -11)
    up = crop.reference_windows([50.0], [10.3], [20.5])
    assert up[0, 1] == -11
    # columns: int(86 - 28.7) = 57 -> 21; int(86 + 28.7) = 114 -> 78
    assert (up[0, 0], up[0, 2]) == (21, 78)


def _up_literal_crop(frame: np.ndarray, cx: float, cy: float, bs: float, cs: float) -> np.ndarray:
    """Spec §7 in its own words: pad by bsi with 110, slice the padded frame with int()."""
    bsi = int(bs * (1 + 2 * cs))
    padded = np.pad(frame, ((bsi, bsi), (bsi, bsi), (0, 0)), "constant", constant_values=110)
    my, mx = cy + bsi, cx + bsi
    return padded[
        int(my - bs) : int(my + bs * (1 + 2 * cs)),
        int(mx - bs * (1 + cs)) : int(mx + bs * (1 + cs)),
    ]


def _seed_literal_crop(frame: np.ndarray, cx: float, cy: float, bs: float, cs: float) -> np.ndarray:
    bsi = int(bs * (1 + 2 * cs))
    padded = np.pad(frame, ((bsi, bsi), (bsi, bsi), (0, 0)), "constant", constant_values=110)
    my, mx = cy + bsi, cx + bsi
    return padded[
        int(my - bs * (1 + cs)) : int(my + bs * (1 + cs)),
        int(mx - bs * (1 + cs)) : int(mx + bs * (1 + cs)),
    ]


def test_windows_cut_the_same_pixels_as_up_and_seed() -> None:
    rng = np.random.default_rng(7)
    frame = rng.integers(0, 256, size=(90, 160, 3), dtype=np.uint8)
    count = 300
    # centres anywhere in the frame (including at the edges), fractional sizes
    cx = rng.uniform(0, 160, count)
    cy = rng.uniform(0, 90, count)
    s = rng.uniform(3.0, 60.0, count)
    up = crop.reference_windows(cx, cy, s)
    seed = crop.seed_centred_windows(cx, cy, s)
    for i in range(count):
        expected_up = _up_literal_crop(frame, cx[i], cy[i], s[i], 0.4)
        expected_seed = _seed_literal_crop(frame, cx[i], cy[i], s[i], 0.4)
        np.testing.assert_array_equal(crop.cut_window(frame, up[i], 110), expected_up)
        np.testing.assert_array_equal(crop.cut_window(frame, seed[i], 110), expected_seed)


@pytest.mark.parametrize(
    ("cx", "cy", "s", "expected"),
    [
        # face at the top-left corner: window leaves the frame up and left
        (10.0, 10.0, 50.0, [-60, -40, 80, 100]),
        # face at the bottom-right corner of a 640x360 frame
        (630.0, 350.0, 50.0, [560, 300, 700, 440]),
    ],
)
def test_reference_windows_at_frame_corners(
    cx: float, cy: float, s: float, expected: list[int]
) -> None:
    np.testing.assert_array_equal(crop.reference_windows([cx], [cy], [s]), [expected])


def test_shift_inside_pipeline_mode_at_edges_and_oversize() -> None:
    windows = crop.reference_windows([10.0, 630.0, 320.0], [10.0, 350.0, 180.0], [50.0, 50.0, 200])
    inside = crop.shift_inside(windows, 640, 360)
    np.testing.assert_array_equal(inside[0], [0, 0, 140, 140])  # shifted down-right
    np.testing.assert_array_equal(inside[1], [500, 220, 640, 360])  # shifted up-left
    # 560-px window on a 360-px-high frame: x kept inside (560 < 640), y clamped to the frame
    assert inside[2, 2] - inside[2, 0] == 560 and inside[2, 0] == 40
    np.testing.assert_array_equal(inside[2, [1, 3]], [0, 360])
