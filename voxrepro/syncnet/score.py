"""SyncNet scoring (spec §8.2, §9 step 1): distances, offset, confidence, frame-wise confidence.

The maths functions are pure (numpy in, numpy out) and replicate upstream exactly:

* ``compute_distances`` is ``calc_pdist``: torch ``pairwise_distance`` semantics (p=2, eps=1e-6
  added to the difference) between video window i and zero-padded audio windows i-15..i+15.
* ``offset_confidence``: offset = vshift - argmin(mean dists); confidence = median - min, with
  torch's median (the lower middle value; the true median for the odd 2·vshift+1 entries).
* ``framewise_confidence`` is SEED's / ``run_visualise.py``'s recipe: best-offset distances
  padded with 3 tens each side, numpy median, zero-padded median filter of 9. Element j is
  assigned to frame j, so window i lands on frame i+3 (its centre is i+2): kept for parity.

Sign: minidx = vshift + k means video window i matches audio window i+k, so offset = -k and a
positive offset means the audio leads the video.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import torch
from scipy.signal import medfilt

from voxrepro.errors import InvalidInputError
from voxrepro.syncnet.features import (
    audio_windows,
    check_frames,
    compute_mfcc,
    count_windows,
    video_windows,
)
from voxrepro.syncnet.model import SyncNetV2
from voxrepro.types import AUDIO_RATE, TIMELINE_FPS, ProgressFn

logger = logging.getLogger("voxrepro")

#: Largest audio shift searched, in 25 fps frames (±0.6 s).
VSHIFT = 15
#: Windows per forward pass upstream (the reference path); ours is a parameter.
REFERENCE_BATCH_SIZE = 20
#: Default windows per forward pass on CPU: time per window is flat from batch 1 up (about
#: 20 ms for the lip stream on 2 cores) while memory grows (+0.3 GB at 20, +0.85 GB at 64).
DEFAULT_CPU_BATCH_SIZE = 20
#: Default on CUDA, where large batches pay (H100 lip stream: 0.83 ms/window at batch 1,
#: 0.107 at 20, 0.085 at 128).
DEFAULT_CUDA_BATCH_SIZE = 128
#: Added to the difference before the norm, as torch ``pairwise_distance`` does.
PAIRWISE_EPS = 1e-6
#: Frame-wise recipe (§9): pad value and width around the best-offset distances, median kernel.
FDIST_PAD_VALUE = 10.0
FDIST_PAD_WIDTH = 3
FRAMEWISE_MEDFILT_KERNEL = 9
#: Windows per chunk in ``compute_distances`` (bounds the N×31×1024 difference tensor).
_DIST_CHUNK = 512


@dataclass(frozen=True, slots=True)
class SyncResult:
    """SyncNet verdict for one track.

    Attributes:
        offset: audio-to-video offset in 25 fps frames, -vshift..vshift (positive: audio leads).
        min_dist: mean distance at the best offset.
        confidence: median(mean dists) - min(mean dists) (the ASD / "Confidence" value).
        dists: (n_windows, 2·vshift+1) float32 distances per window and shift.
        framewise_conf: (n_frames,) float32 §9 frame-wise confidence, index j = track frame j.
        n_windows: number of 5-frame windows scored (min_length - 5).
    """

    offset: int
    min_dist: float
    confidence: float
    dists: npt.NDArray[np.float32]
    framewise_conf: npt.NDArray[np.float32]
    n_windows: int


def compute_distances(
    video_emb: npt.NDArray[np.floating], audio_emb: npt.NDArray[np.floating], vshift: int = VSHIFT
) -> npt.NDArray[np.float32]:
    """Distances between each video window and the audio windows around it (``calc_pdist``).

    Args:
        video_emb: (N, D) video embeddings, one per window.
        audio_emb: (N, D) audio embeddings, one per window.
        vshift: largest shift in windows (= frames).

    Returns:
        (N, 2·vshift+1) float32; column j of row i is ``||v_i - a_(i+j-vshift) + 1e-6||_2`` with
        a zero vector standing in for audio windows outside 0..N-1.
    """
    if video_emb.ndim != 2 or video_emb.shape != audio_emb.shape:
        raise InvalidInputError(
            f"embeddings must be two (N, D) arrays of one shape, got {video_emb.shape} "
            f"and {audio_emb.shape}"
        )
    video = torch.as_tensor(np.asarray(video_emb, dtype=np.float32))
    audio = torch.nn.functional.pad(
        torch.as_tensor(np.asarray(audio_emb, dtype=np.float32)), (0, 0, vshift, vshift)
    )
    # (N, D, 2v+1) view: window i sees padded audio rows i..i+2v.
    shifted = audio.unfold(0, 2 * vshift + 1, 1)[: len(video)]
    out = torch.empty((len(video), 2 * vshift + 1), dtype=torch.float32)
    for start in range(0, len(video), _DIST_CHUNK):
        stop = start + _DIST_CHUNK
        diff = video[start:stop, :, None] - shifted[start:stop] + PAIRWISE_EPS
        out[start:stop] = torch.linalg.vector_norm(diff, ord=2, dim=1)
    return out.numpy()


def _check_dists(dists: npt.NDArray[np.floating], vshift: int | None = None) -> None:
    if dists.ndim != 2 or len(dists) == 0 or dists.shape[1] % 2 != 1:
        raise InvalidInputError(
            f"dists must be (n_windows >= 1, 2·vshift+1), got shape {dists.shape}"
        )
    if vshift is not None and dists.shape[1] != 2 * vshift + 1:
        raise InvalidInputError(
            f"dists has {dists.shape[1]} shifts, vshift={vshift} needs {2 * vshift + 1}"
        )


def _torch_median(values: npt.NDArray[np.floating]) -> float:
    """torch.median semantics: the lower of the two middle values for even counts."""
    return float(np.sort(values)[(len(values) - 1) // 2])


def offset_confidence(
    dists: npt.NDArray[np.floating], vshift: int = VSHIFT
) -> tuple[int, float, float]:
    """Clip-level offset, min dist and confidence from the distance matrix.

    Args:
        dists: (n_windows, 2·vshift+1) distances from ``compute_distances``.
        vshift: the shift range used to build ``dists``.

    Returns:
        (offset in frames, positive = audio leads; min dist; confidence = median - min).
    """
    _check_dists(dists, vshift)
    mean_dists = dists.mean(axis=0)
    minidx = int(np.argmin(mean_dists))
    min_dist = float(mean_dists[minidx])
    return vshift - minidx, min_dist, _torch_median(mean_dists) - min_dist


def window_confidence(dists: npt.NDArray[np.floating]) -> npt.NDArray[np.float32]:
    """Per-window confidence as upstream ``evaluate`` computes it (no padding, no shift).

    Args:
        dists: (n_windows, 2·vshift+1) distances.

    Returns:
        (n_windows,) float32 ``medfilt(median(mdist) - d_i[minidx], 9)`` (zero-padded filter).
    """
    _check_dists(dists)
    mean_dists = dists.mean(axis=0)
    fdist = dists[:, int(np.argmin(mean_dists))].astype(np.float32)
    fconf = np.float32(_torch_median(mean_dists)) - fdist
    return medfilt(fconf, FRAMEWISE_MEDFILT_KERNEL).astype(np.float32)


def framewise_confidence(
    dists: npt.NDArray[np.floating], n_frames: int | None = None
) -> npt.NDArray[np.float32]:
    """Frame-wise confidence as SEED's post-processing computes it (spec §9 step 1).

    Args:
        dists: (n_windows, 2·vshift+1) distances.
        n_frames: frames in the track. ``None`` returns SEED's raw series of n_windows + 6
            values (L + 1 for a clip of L frames); otherwise exactly ``n_frames`` values:
            the first L of them, or, when audio was short (fewer windows than L - 5), the
            padding of 10s is extended at the end so that every frame gets a value.

    Returns:
        float32 series; element j belongs to track frame j, window i sits on frame i+3.
    """
    _check_dists(dists)
    mean_dists = dists.mean(axis=0)
    fdist = dists[:, int(np.argmin(mean_dists))].astype(np.float32)
    tail = FDIST_PAD_WIDTH
    if n_frames is not None:
        # L+1 values in the normal case (n_windows = L-5); more 10s only for short audio.
        tail = max(tail, n_frames + 1 - len(fdist) - FDIST_PAD_WIDTH)
    padded = np.pad(fdist, (FDIST_PAD_WIDTH, tail), constant_values=FDIST_PAD_VALUE)
    fconf = np.median(mean_dists).astype(np.float32) - padded
    fconfm = medfilt(fconf, FRAMEWISE_MEDFILT_KERNEL).astype(np.float32)
    return fconfm if n_frames is None else fconfm[:n_frames]


def prepare_inputs(
    frames_bgr: npt.NDArray[np.uint8], audio: npt.NDArray[np.int16]
) -> tuple[npt.NDArray[np.float32], int]:
    """Validate one track's inputs (frames, audio, length) and compute its MFCCs.

    Args:
        frames_bgr: (T, 224, 224, 3) uint8 BGR crops.
        audio: (n_samples,) int16 mono 16 kHz.

    Returns:
        ((13, T_mfcc) float32 MFCCs, number of windows >= 1).

    Raises:
        InvalidInputError: bad shapes, or fewer than one window.
    """
    check_frames(frames_bgr)
    if audio.ndim != 1:
        raise InvalidInputError(f"audio must be mono (1-D), got shape {audio.shape}")
    n_frames, n_samples = len(frames_bgr), len(audio)
    if n_samples / AUDIO_RATE != n_frames / TIMELINE_FPS:
        logger.warning(
            "audio (%.4f s) and video (%.4f s) lengths differ; scoring the shorter",
            n_samples / AUDIO_RATE,
            n_frames / TIMELINE_FPS,
        )
    n_windows = count_windows(n_frames, n_samples)
    if n_windows < 1:
        raise InvalidInputError(
            f"track too short for SyncNet: {n_frames} frames and {n_samples} samples give "
            f"{n_windows} windows (needs at least 6 frames and 3840 samples)"
        )
    return compute_mfcc(audio), n_windows


def _embed(
    model: SyncNetV2,
    frames_bgr: npt.NDArray[np.uint8],
    mfcc: npt.NDArray[np.float32],
    n_windows: int,
    batch_size: int,
    device: torch.device,
    fp16: bool,
    progress: ProgressFn | None,
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    video_out = np.empty((n_windows, model.netfclip[3].out_features), dtype=np.float32)
    audio_out = np.empty_like(video_out)
    autocast = torch.autocast(device_type="cuda", dtype=torch.float16, enabled=fp16)
    with torch.inference_mode(), autocast:
        for start in range(0, n_windows, batch_size):
            stop = min(start + batch_size, n_windows)
            lips = video_windows(frames_bgr, start, stop, device)
            video_out[start:stop] = model.forward_lip(lips).float().cpu().numpy()
            mfccs = audio_windows(mfcc, start, stop).to(device, non_blocking=True)
            audio_out[start:stop] = model.forward_aud(mfccs).float().cpu().numpy()
            if progress is not None:
                progress(stop - start)
    return video_out, audio_out


def _resolve_device(model: SyncNetV2, device: str | torch.device | None) -> torch.device:
    """The device to run on: the model's, which ``device`` (if given) must agree with."""
    model_device = next(model.parameters()).device
    if device is None:
        return model_device
    wanted = torch.device(device)
    if wanted.type != model_device.type or wanted.index not in (None, model_device.index):
        # Moving the caller's model here would be a hidden side effect; ask for it instead.
        raise InvalidInputError(
            f"model is on {model_device} but device={wanted}; load it with that device"
        )
    return model_device


def score_track(
    frames_bgr: npt.NDArray[np.uint8],
    audio: npt.NDArray[np.int16],
    model: SyncNetV2,
    *,
    batch_size: int | None = None,
    vshift: int = VSHIFT,
    device: str | torch.device | None = None,
    fp16: bool = False,
    progress: ProgressFn | None = None,
) -> SyncResult:
    """Score one face track with SyncNet (batched, no per-window copies in Python).

    Args:
        frames_bgr: (T, 224, 224, 3) uint8 BGR crops of the track, 25 fps.
        audio: int16 mono 16 kHz samples covering exactly the track's span (T·640 samples).
        model: a SyncNet v2 in eval mode (``load_syncnet``).
        batch_size: windows per forward pass (memory vs speed; the result does not depend on
            it beyond float rounding). Default 20 on CPU, 128 on CUDA.
        vshift: largest audio shift searched, in frames.
        device: where to run; defaults to the model's device. Inputs are moved there.
        fp16: autocast the networks to float16 (CUDA only; default float32 as upstream).
        progress: called with the number of windows finished after each batch.

    Returns:
        The track's ``SyncResult``.

    Raises:
        InvalidInputError: wrong frame size, non-mono audio, a track under 6 frames, a bad
            batch size, or fp16 off CUDA.
    """
    run_on = _resolve_device(model, device)
    if batch_size is None:
        batch_size = DEFAULT_CUDA_BATCH_SIZE if run_on.type == "cuda" else DEFAULT_CPU_BATCH_SIZE
    if batch_size < 1:
        raise InvalidInputError(f"batch_size must be >= 1, got {batch_size}")
    if fp16 and run_on.type != "cuda":
        raise InvalidInputError(f"fp16 scoring needs a CUDA device, got {run_on}")
    mfcc, n_windows = prepare_inputs(frames_bgr, audio)
    model.eval()  # as upstream evaluate(): BatchNorm must use the stored statistics
    video_emb, audio_emb = _embed(
        model, frames_bgr, mfcc, n_windows, batch_size, run_on, fp16, progress
    )
    dists = compute_distances(video_emb, audio_emb, vshift)
    offset, min_dist, confidence = offset_confidence(dists, vshift)
    return SyncResult(
        offset=offset,
        min_dist=min_dist,
        confidence=confidence,
        dists=dists,
        framewise_conf=framewise_confidence(dists, len(frames_bgr)),
        n_windows=n_windows,
    )
