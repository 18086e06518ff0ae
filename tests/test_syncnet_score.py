"""End-to-end ``score_track`` with a random-init SyncNet on CPU (and CUDA when present)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from voxrepro.errors import InvalidInputError
from voxrepro.syncnet import (
    SyncNetV2,
    make_random_syncnet,
    score_track,
    score_track_reference,
)
from voxrepro.syncnet.score import framewise_confidence, offset_confidence

N_FRAMES = 60


@pytest.fixture(scope="module")
def model() -> SyncNetV2:
    return make_random_syncnet(seed=5)


@pytest.fixture(scope="module")
def track() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(11)
    # Smooth-ish frames (a moving gradient plus noise) so embeddings vary between windows.
    base = np.linspace(0, 255, 224, dtype=np.float32)
    frames = np.empty((N_FRAMES, 224, 224, 3), dtype=np.uint8)
    for t in range(N_FRAMES):
        shifted = np.roll(base, 7 * t)[None, :, None] + rng.normal(0, 20, (224, 224, 3))
        frames[t] = np.clip(shifted, 0, 255).astype(np.uint8)
    audio = (rng.standard_normal(N_FRAMES * 640) * 3000).astype(np.int16)
    return frames, audio


@pytest.fixture(scope="module")
def result_64(model: SyncNetV2, track: tuple[np.ndarray, np.ndarray]):
    return score_track(*track, model, batch_size=64)


def test_score_track_shapes_are_consistent(result_64) -> None:
    assert result_64.n_windows == N_FRAMES - 5
    assert result_64.dists.shape == (N_FRAMES - 5, 31)
    assert result_64.dists.dtype == np.float32
    assert result_64.framewise_conf.shape == (N_FRAMES,)
    assert np.isfinite(result_64.dists).all() and np.isfinite(result_64.framewise_conf).all()
    assert -15 <= result_64.offset <= 15
    # The summary values are the pure functions applied to the returned distances.
    assert (result_64.offset, result_64.min_dist, result_64.confidence) == pytest.approx(
        offset_confidence(result_64.dists)
    )
    np.testing.assert_array_equal(
        result_64.framewise_conf, framewise_confidence(result_64.dists, N_FRAMES)
    )


def test_batch_size_does_not_change_the_result(model, track, result_64) -> None:
    calls: list[int] = []
    small = score_track(*track, model, batch_size=7, progress=calls.append)
    assert calls == [7] * 7 + [6]
    np.testing.assert_allclose(small.dists, result_64.dists, rtol=1e-4, atol=1e-4)
    assert small.offset == result_64.offset
    assert small.confidence == pytest.approx(result_64.confidence, abs=1e-3)


def test_fast_path_matches_spec_shaped_reference(model, track, result_64) -> None:
    reference = score_track_reference(*track, model)
    np.testing.assert_allclose(reference.dists, result_64.dists, rtol=1e-4, atol=1e-4)
    assert reference.n_windows == result_64.n_windows
    assert reference.offset == result_64.offset
    assert reference.min_dist == pytest.approx(result_64.min_dist, abs=1e-3)


def test_delaying_the_audio_moves_the_distances_by_that_many_shifts(model, track) -> None:
    # Delaying the audio by 4 frames (2560 samples = 16 MFCC steps) makes audio window w equal
    # to the old window w-4, so dists'[i, j] = dists[i, j-4] wherever both use real windows.
    frames, audio = track
    delay = 4
    delayed = np.concatenate([np.zeros(delay * 640, np.int16), audio[: -delay * 640]])
    base = score_track(frames, audio, model)
    moved = score_track(frames, delayed, model)
    n = base.n_windows
    rows, cols = np.meshgrid(np.arange(n), np.arange(31), indexing="ij")
    audio_index = rows + cols - 15  # the window of `delayed` that column j of row i uses
    valid = (audio_index >= delay) & (audio_index <= n - 1) & (cols >= delay)
    assert valid.sum() > 500
    np.testing.assert_allclose(
        moved.dists[valid], base.dists[rows[valid], cols[valid] - delay], rtol=1e-4, atol=1e-3
    )
    # Where the delayed audio is still silence the distances differ: the check can fail.
    assert not np.allclose(moved.dists[:, :delay], base.dists[:, :delay], atol=1e-3)


def test_short_audio_still_gives_one_value_per_frame(model, track) -> None:
    frames, audio = track
    result = score_track(frames, audio[: 40 * 640 + 100], model)
    assert result.n_windows == 35
    assert result.framewise_conf.shape == (N_FRAMES,)


def test_scoring_puts_the_model_in_eval_mode(track) -> None:
    frames, audio = track[0][:12], track[1][: 12 * 640]
    model = make_random_syncnet(seed=9)
    expected = score_track(frames, audio, model)
    model.train()  # batch statistics would make results depend on the batch
    again = score_track(frames, audio, model, batch_size=3)
    assert not model.training
    np.testing.assert_allclose(again.dists, expected.dists, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(
    ("frames_shape", "n_samples", "message"),
    [
        ((10, 112, 112, 3), 6400, "exactly 224×224×3"),
        ((10, 224, 224), 6400, "exactly 224×224×3"),
        ((5, 224, 224, 3), 3200, "too short for SyncNet"),
        ((10, 224, 224, 3), 3000, "too short for SyncNet"),
    ],
)
def test_bad_inputs_are_refused_clearly(model, frames_shape, n_samples, message) -> None:
    frames = np.zeros(frames_shape, dtype=np.uint8)
    with pytest.raises(InvalidInputError, match=message):
        score_track(frames, np.zeros(n_samples, np.int16), model)


def test_fp16_needs_cuda_and_device_must_match_model(model, track) -> None:
    with pytest.raises(InvalidInputError, match="fp16 scoring needs a CUDA device"):
        score_track(*track, model, fp16=True)
    with pytest.raises(InvalidInputError, match="model is on cpu but device=cuda"):
        score_track(*track, model, device="cuda")
    with pytest.raises(InvalidInputError, match="batch_size"):
        score_track(*track, model, batch_size=0)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_fp32_and_fp16_agree_with_cpu(track, result_64) -> None:
    gpu_model = make_random_syncnet(seed=5).to("cuda")
    fp32 = score_track(*track, gpu_model, batch_size=64, device="cuda")
    np.testing.assert_allclose(fp32.dists, result_64.dists, rtol=1e-3, atol=1e-3)
    fp16 = score_track(*track, gpu_model, batch_size=64, fp16=True)
    np.testing.assert_allclose(fp16.dists, result_64.dists, rtol=2e-2, atol=2e-2)
    assert fp16.dists.dtype == np.float32
