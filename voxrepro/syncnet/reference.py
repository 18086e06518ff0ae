"""The spec-shaped (slow) SyncNet path: the baseline that ``score_track`` is checked against.

It follows upstream ``SyncNetInstance.evaluate`` step by step (spec §8.2): the whole clip as one
1×3×T×224×224 float tensor, windows sliced one by one and concatenated per batch of 20, and a
per-window ``pairwise_distance`` loop. Use it for parity tests and as the benchmark baseline;
use ``score_track`` for real work.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import torch
import torch.nn.functional as F

from voxrepro.syncnet.model import SyncNetV2
from voxrepro.syncnet.score import (
    REFERENCE_BATCH_SIZE,
    VSHIFT,
    SyncResult,
    framewise_confidence,
    prepare_inputs,
)


def pairwise_distances_loop(
    video_emb: torch.Tensor, audio_emb: torch.Tensor, vshift: int = VSHIFT
) -> list[torch.Tensor]:
    """Upstream ``calc_pdist``: one ``pairwise_distance`` call per video window.

    Args:
        video_emb: (N, D) video embeddings.
        audio_emb: (N, D) audio embeddings.
        vshift: largest shift, in windows.

    Returns:
        N tensors of 2·vshift+1 distances.
    """
    window = 2 * vshift + 1
    padded = F.pad(audio_emb, (0, 0, vshift, vshift))
    return [
        F.pairwise_distance(video_emb[[i], :].repeat(window, 1), padded[i : i + window, :])
        for i in range(len(video_emb))
    ]


def score_track_reference(
    frames_bgr: npt.NDArray[np.uint8],
    audio: npt.NDArray[np.int16],
    model: SyncNetV2,
    *,
    batch_size: int = REFERENCE_BATCH_SIZE,
    vshift: int = VSHIFT,
) -> SyncResult:
    """Score a track the way upstream does, on the model's device, float32.

    Args:
        frames_bgr: (T, 224, 224, 3) uint8 BGR crops, 25 fps.
        audio: int16 mono 16 kHz samples for exactly the track's span.
        model: SyncNet v2 in eval mode.
        batch_size: windows per forward pass (20 upstream).
        vshift: largest audio shift searched, in frames.

    Returns:
        The same ``SyncResult`` fields as ``score_track``.
    """
    mfcc, n_windows = prepare_inputs(frames_bgr, audio)
    device = next(model.parameters()).device
    model.eval()
    # 1×3×T×H×W, channels kept in file order (BGR), as upstream stacks cv2 frames.
    clip = torch.from_numpy(frames_bgr.astype(float)).float().permute(3, 0, 1, 2).unsqueeze(0)
    cct = torch.from_numpy(mfcc).unsqueeze(0).unsqueeze(0)  # 1×1×13×T_mfcc
    video_feats, audio_feats = [], []
    with torch.no_grad():
        for i in range(0, n_windows, batch_size):
            batch = range(i, min(n_windows, i + batch_size))
            lips = torch.cat([clip[:, :, v : v + 5, :, :] for v in batch], 0)
            video_feats.append(model.forward_lip(lips.to(device)).cpu())
            mfccs = torch.cat([cct[:, :, :, v * 4 : v * 4 + 20] for v in batch], 0)
            audio_feats.append(model.forward_aud(mfccs.to(device)).cpu())
        dists = pairwise_distances_loop(torch.cat(video_feats), torch.cat(audio_feats), vshift)
        mdist = torch.mean(torch.stack(dists, 1), 1)
        minval, minidx = torch.min(mdist, 0)
        conf = torch.median(mdist) - minval
    dists_np = torch.stack(dists).numpy()
    return SyncResult(
        offset=int(vshift - minidx),
        min_dist=float(minval),
        confidence=float(conf),
        dists=dists_np,
        framewise_conf=framewise_confidence(dists_np, len(frames_bgr)),
        n_windows=n_windows,
    )
