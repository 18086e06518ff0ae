"""SyncNet maths on constructed inputs (spec §8.2, §9 step 1): no network involved."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from voxrepro.errors import InvalidInputError
from voxrepro.syncnet.features import (
    audio_windows,
    compute_mfcc,
    count_windows,
    video_windows,
)
from voxrepro.syncnet.score import (
    compute_distances,
    framewise_confidence,
    offset_confidence,
    window_confidence,
)


def direct_distances(video: np.ndarray, audio: np.ndarray, vshift: int) -> np.ndarray:
    """The spec's definition, one window at a time, with torch's pairwise_distance."""
    v, a = torch.from_numpy(video), torch.from_numpy(audio)
    rows = []
    for i in range(len(v)):
        column = []
        for j in range(2 * vshift + 1):
            k = i + j - vshift
            other = a[k] if 0 <= k < len(a) else torch.zeros_like(a[0])
            column.append(F.pairwise_distance(v[i : i + 1], other[None])[0])
        rows.append(torch.stack(column))
    return torch.stack(rows).numpy()


def zero_padded_medfilt(values: np.ndarray, kernel: int) -> np.ndarray:
    half = kernel // 2
    padded = np.concatenate([np.zeros(half), values, np.zeros(half)])
    return np.array([np.median(padded[i : i + kernel]) for i in range(len(values))])


@pytest.mark.parametrize("vshift", [15, 3])
def test_compute_distances_equals_per_window_pairwise_distance(vshift: int) -> None:
    rng = np.random.default_rng(1)
    video = rng.standard_normal((40, 16)).astype(np.float32)
    audio = rng.standard_normal((40, 16)).astype(np.float32)
    dists = compute_distances(video, audio, vshift)
    assert dists.shape == (40, 2 * vshift + 1)
    assert dists.dtype == np.float32
    np.testing.assert_allclose(dists, direct_distances(video, audio, vshift), rtol=1e-6)


def test_distance_to_identical_vector_is_eps_norm() -> None:
    # pairwise_distance adds eps=1e-6 to the difference: identical D-vectors give sqrt(D)*1e-6.
    emb = np.ones((1, 100), dtype=np.float32)
    assert compute_distances(emb, emb, vshift=0)[0, 0] == pytest.approx(10 * 1e-6, rel=1e-3)


@pytest.mark.parametrize("k", [3, -4, 0, 15, -15])
def test_offset_follows_spec_sign_convention(k: int) -> None:
    # video window i == audio window i+k  =>  minidx = vshift + k  =>  offset = -k.
    rng = np.random.default_rng(7)
    n, vshift = 50, 15
    audio = rng.standard_normal((n, 32)).astype(np.float32)
    video = rng.standard_normal((n, 32)).astype(np.float32)
    for i in range(n):
        if 0 <= i + k < n:
            video[i] = audio[i + k]
    offset, min_dist, conf = offset_confidence(compute_distances(video, audio, vshift), vshift)
    assert offset == -k
    assert conf > 0
    mean = compute_distances(video, audio, vshift).mean(axis=0)
    assert min_dist == pytest.approx(mean.min())


def test_positive_offset_means_audio_leads() -> None:
    # Events e_t; the audio carries each event `lead` windows before the video shows it.
    rng = np.random.default_rng(3)
    lead, n = 4, 60
    events = rng.standard_normal((n + 2 * lead, 24)).astype(np.float32)
    video = events[lead : lead + n]  # video window i shows event i
    audio = events[2 * lead : 2 * lead + n]  # audio window j already carries event j + lead
    offset, _, _ = offset_confidence(compute_distances(video, audio))
    assert offset == lead


def test_confidence_is_median_minus_min_by_hand() -> None:
    # vshift 1: three shifts. mean over windows = [3, 2, 7]; min 2 at index 1; median 3.
    dists = np.array([[4.0, 1.0, 6.0], [2.0, 3.0, 8.0]], dtype=np.float32)
    assert offset_confidence(dists, vshift=1) == (0, 2.0, 1.0)
    # min at index 0 -> offset = vshift - 0 = 2 (vshift 2); mean [1, 5, 6, 4, 9]: median 5.
    dists = np.array([[1, 5, 6, 4, 9]], dtype=np.float32)
    assert offset_confidence(dists, vshift=2) == (2, 1.0, 4.0)


def test_offset_confidence_refuses_mismatched_vshift() -> None:
    with pytest.raises(InvalidInputError, match="vshift=15 needs 31"):
        offset_confidence(np.zeros((4, 7), dtype=np.float32), vshift=15)


def step_dists(n_windows: int, step_at: int) -> np.ndarray:
    """dists whose best column (7 of 31) is 1.0 before window `step_at` and 9.0 from it on."""
    dists = np.full((n_windows, 31), 20.0, dtype=np.float32)
    dists[:, 7] = np.where(np.arange(n_windows) < step_at, 1.0, 9.0)
    return dists


def test_framewise_confidence_padding_shift_and_length() -> None:
    n_frames = 60
    n_windows = n_frames - 5
    dists = step_dists(n_windows, step_at=20)
    median = float(np.median(dists.mean(axis=0)))
    raw = framewise_confidence(dists)
    assert len(raw) == n_windows + 6 == n_frames + 1
    per_frame = framewise_confidence(dists, n_frames)
    assert len(per_frame) == n_frames
    np.testing.assert_array_equal(per_frame, raw[:n_frames])
    # Independent computation: pad with 3 tens, subtract from median, zero-padded medfilt 9.
    fdist = np.pad(dists[:, 7], 3, constant_values=10.0)
    expected = zero_padded_medfilt(median - fdist, 9)
    np.testing.assert_allclose(raw, expected, rtol=1e-6)
    # Window i lands on frame i+3: the step at window 20 is seen at frame 23.
    assert per_frame[22] == pytest.approx(median - 1.0)
    assert per_frame[23] == pytest.approx(median - 9.0)


def test_framewise_medfilt_pads_with_zeros_not_edge_values() -> None:
    dists = np.full((30, 31), 6.0, dtype=np.float32)
    dists[:, 7] = 1.0  # median of the means is 6: pads give 6-10 = -4, windows 6-1 = 5
    conf = framewise_confidence(dists)
    # Kernel at element 0 sees 4 zeros, 3 pads (-4) and 2 windows (5): median 0. Edge-value
    # padding would give -4 instead.
    assert conf[0] == pytest.approx(0.0)
    assert conf[1] == pytest.approx(0.0)  # 3 zeros, 3 × -4, 3 × 5 -> 0
    assert conf[2] == pytest.approx(0.0)  # 2 zeros, 3 × -4, 4 × 5 -> 0
    assert conf[3] == pytest.approx(5.0)  # 1 zero, 3 × -4, 5 × 5 -> 5
    assert conf[10] == pytest.approx(5.0)
    assert conf[-1] == pytest.approx(0.0)


def test_framewise_extends_padding_when_audio_was_short() -> None:
    dists = step_dists(30, step_at=100)  # 30 windows, but the track has 60 frames
    per_frame = framewise_confidence(dists, 60)
    assert len(per_frame) == 60
    raw = framewise_confidence(dists)
    np.testing.assert_array_equal(per_frame[: len(raw) - 4], raw[: len(raw) - 4])
    median = float(np.median(dists.mean(axis=0)))
    assert per_frame[50] == pytest.approx(median - 10.0)


def test_window_confidence_is_unpadded_upstream_variant() -> None:
    dists = step_dists(40, step_at=20)
    median = float(np.median(dists.mean(axis=0)))
    conf = window_confidence(dists)
    assert len(conf) == 40
    np.testing.assert_allclose(conf, zero_padded_medfilt(median - dists[:, 7], 9), rtol=1e-6)
    assert conf[19] == pytest.approx(median - 1.0) and conf[20] == pytest.approx(median - 9.0)


@pytest.mark.parametrize("n_samples", [400, 401, 640, 6400, 16000, 38400, 38559])
def test_mfcc_shape(n_samples: int) -> None:
    audio = np.random.default_rng(0).integers(-3000, 3000, n_samples).astype(np.int16)
    mfcc = compute_mfcc(audio)
    assert mfcc.shape == (13, 1 + math.ceil((n_samples - 400) / 160))
    assert mfcc.dtype == np.float32
    assert np.isfinite(mfcc).all()


def test_mfcc_uses_int16_scale() -> None:
    # Scaling the input shifts only the energy term c0, so the int16 scale is observable there.
    audio = np.random.default_rng(2).integers(-8000, 8000, 8000).astype(np.int16)
    raw = compute_mfcc(audio)
    scaled = compute_mfcc(audio.astype(np.float64) / 32768.0)
    np.testing.assert_allclose(raw[1:], scaled[1:], rtol=1e-3, atol=1e-2)
    assert np.all(raw[0] - scaled[0] == pytest.approx(2 * np.log(32768.0), rel=1e-3))


@pytest.mark.parametrize(
    ("n_frames", "n_samples", "expected"),
    [(60, 60 * 640, 55), (60, 50 * 640 + 639, 45), (40, 60 * 640, 35), (5, 5 * 640, 0)],
)
def test_window_count_is_min_length_minus_5(n_frames: int, n_samples: int, expected: int) -> None:
    assert count_windows(n_frames, n_samples) == expected


def test_video_windows_are_strided_bgr_views() -> None:
    frames = np.random.default_rng(4).integers(0, 256, (9, 224, 224, 3), dtype=np.uint8)
    windows = video_windows(frames, 1, 4)
    assert windows.shape == (3, 3, 5, 224, 224)
    assert windows.dtype == torch.float32
    for n, i in enumerate(range(1, 4)):
        for t in range(5):
            for c in range(3):  # channel order stays B, G, R
                np.testing.assert_array_equal(windows[n, c, t].numpy(), frames[i + t, :, :, c])
    with pytest.raises(InvalidInputError, match="need frames up to 10"):
        video_windows(frames, 2, 6)


def test_audio_windows_take_four_steps_per_frame() -> None:
    mfcc = np.arange(13 * 60, dtype=np.float32).reshape(13, 60)
    windows = audio_windows(mfcc, 2, 9)
    assert windows.shape == (7, 1, 13, 20)
    for n, i in enumerate(range(2, 9)):
        np.testing.assert_array_equal(windows[n, 0].numpy(), mfcc[:, 4 * i : 4 * i + 20])
    with pytest.raises(InvalidInputError, match="MFCC columns up to 64"):
        audio_windows(mfcc, 0, 12)
