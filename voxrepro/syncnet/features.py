"""SyncNet inputs (spec §8.2): MFCCs and the 5-frame / 20-step windows, built without copies.

Window *i* pairs video frames [i, i+5) with MFCC columns [4i, 4i+20) (4 MFCC steps per 25 fps
frame). The window count is ``min(n_frames, n_samples // 640) - 5``: one fewer than the valid
windows, replicated for parity with upstream ``SyncNetInstance.evaluate``.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import python_speech_features
import torch

from voxrepro.errors import InvalidInputError
from voxrepro.syncnet.model import FRAME_SIZE, MFCC_COEFFS, WINDOW_FRAMES, WINDOW_MFCC_STEPS
from voxrepro.types import AUDIO_RATE, SAMPLES_PER_FRAME

#: MFCC steps per 25 fps video frame (100 steps/s).
MFCC_STEPS_PER_FRAME = 4
#: Windows dropped from the end: 5 frames per window, plus upstream's one missing window.
WINDOW_SHORTFALL = 5


def compute_mfcc(audio: npt.NDArray[np.int16]) -> npt.NDArray[np.float32]:
    """MFCCs exactly as upstream: PSF defaults on the raw int16 samples, transposed.

    Args:
        audio: (n_samples,) mono 16 kHz samples, int16 scale (not scaled to [-1, 1]).

    Returns:
        (13, 1 + ceil((n_samples - 400) / 160)) float32, 100 steps per second.
    """
    if audio.ndim != 1:
        raise InvalidInputError(f"audio must be mono (1-D), got shape {audio.shape}")
    # PSF works in float64; upstream casts the result to float32 before the network.
    return python_speech_features.mfcc(audio, AUDIO_RATE).T.astype(np.float32)


def count_windows(n_frames: int, n_samples: int) -> int:
    """Number of SyncNet windows for a clip (may be <= 0 for clips under 6 frames).

    Args:
        n_frames: video frames (25 fps).
        n_samples: audio samples (16 kHz).

    Returns:
        ``min(n_frames, n_samples // 640) - 5``.
    """
    return min(n_frames, n_samples // SAMPLES_PER_FRAME) - WINDOW_SHORTFALL


def check_frames(frames_bgr: npt.NDArray[np.uint8]) -> None:
    """Refuse frames the lip stream cannot take (it needs exactly 224×224×3).

    Raises:
        InvalidInputError: wrong rank, size or channel count.
    """
    if frames_bgr.ndim != 4 or frames_bgr.shape[1:] != (FRAME_SIZE, FRAME_SIZE, 3):
        raise InvalidInputError(
            f"SyncNet needs frames of exactly {FRAME_SIZE}×{FRAME_SIZE}×3 (T, H, W, BGR), "
            f"got shape {tuple(frames_bgr.shape)}"
        )


def video_windows(
    frames_bgr: npt.NDArray[np.uint8],
    start: int,
    stop: int,
    device: str | torch.device = "cpu",
) -> torch.Tensor:
    """Lip-stream input for windows [start, stop).

    Only frames [start, stop+4) are moved (as uint8, 4× smaller than float) and converted to
    float once; the windows are a strided view over them, so each frame appears in five
    windows without being copied five times.

    Args:
        frames_bgr: (T, 224, 224, 3) uint8 BGR frames of one track.
        start: first window (= first frame) index.
        stop: one past the last window; needs ``stop + 4 <= T``.
        device: where the windows should live.

    Returns:
        (stop - start, 3, 5, 224, 224) float32 view, values 0..255, channel order B, G, R.
    """
    span = frames_bgr[start : stop + WINDOW_FRAMES - 1]
    if stop <= start or len(span) != stop - start + WINDOW_FRAMES - 1:
        raise InvalidInputError(
            f"windows [{start}, {stop}) need frames up to {stop + WINDOW_FRAMES - 1}, "
            f"have {len(frames_bgr)}"
        )
    # (T, H, W, C) -> (C, T, H, W), as float32 once.
    raw = torch.from_numpy(np.ascontiguousarray(span)).to(device, non_blocking=True)
    clip = raw.permute(3, 0, 1, 2).float().contiguous()
    # unfold T into (n_windows, 5): (C, n, H, W, 5) -> (n, C, 5, H, W), still a view.
    return clip.unfold(1, WINDOW_FRAMES, 1).permute(1, 0, 4, 2, 3)


def audio_windows(mfcc: npt.NDArray[np.float32], start: int, stop: int) -> torch.Tensor:
    """Audio-stream input for windows [start, stop).

    Args:
        mfcc: (13, T_mfcc) MFCCs from ``compute_mfcc``.
        start: first window index (window i starts at MFCC column 4i).
        stop: one past the last window.

    Returns:
        (stop - start, 1, 13, 20) float32 view.
    """
    first = start * MFCC_STEPS_PER_FRAME
    last = (stop - 1) * MFCC_STEPS_PER_FRAME + WINDOW_MFCC_STEPS
    if mfcc.shape[0] != MFCC_COEFFS or stop <= start or last > mfcc.shape[1]:
        raise InvalidInputError(
            f"windows [{start}, {stop}) need MFCC columns up to {last} of {MFCC_COEFFS} "
            f"coefficients, have shape {mfcc.shape}"
        )
    steps = torch.from_numpy(np.ascontiguousarray(mfcc[:, first:last]))
    # (13, n, 20) -> (n, 1, 13, 20)
    return steps.unfold(1, WINDOW_MFCC_STEPS, MFCC_STEPS_PER_FRAME).permute(1, 0, 2).unsqueeze(1)
