"""SyncNet on a track's crops, then the split into well-synced segments (spec §8–§9).

Without SyncNet weights (or without audio) the stage is skipped: the whole track becomes one
segment whose ASD Conf is written as 0.000 and whose offset is 0, and the run is flagged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from voxrepro.split import split_track
from voxrepro.syncnet import VSHIFT, offset_confidence, score_track
from voxrepro.syncnet.features import count_windows

#: SyncNet needs at least one 5-frame window (spec §8.2: n_windows = min_length - 5).
MIN_SCORABLE_FRAMES = 6


@dataclass(frozen=True)
class SegmentScore:
    """One output segment: inclusive global frame span and its SyncNet values."""

    first: int
    last: int
    offset: int
    confidence: float
    min_dist: float | None


def _span_scores(
    dists: npt.NDArray[np.float32], first_rel: int, last_rel: int
) -> tuple[int, float, float] | None:
    # Window i covers track frames [i, i+5): keep the windows lying inside the span.
    lo, hi = first_rel, min(last_rel - 4, dists.shape[0] - 1)
    if hi < lo:
        return None
    return offset_confidence(dists[lo : hi + 1], VSHIFT)


def score_and_split(
    track_frames: npt.NDArray[np.int64],
    crops: npt.NDArray[np.uint8] | None,
    audio: npt.NDArray[np.int16] | None,
    model: object | None,
    *,
    batch_size: int,
    fp16: bool,
) -> tuple[list[SegmentScore], dict[str, float] | None]:
    """Segments of one track and, when scored, the track-level SyncNet values.

    Each segment's offset and confidence come from the SyncNet windows inside it (the
    track-level values when the span holds no whole window).
    """
    first, last = int(track_frames[0]), int(track_frames[-1])
    scorable = (
        model is not None
        and crops is not None
        and audio is not None
        and len(crops) >= MIN_SCORABLE_FRAMES
        and count_windows(len(crops), audio.shape[0]) > 0
    )
    if not scorable:
        return [SegmentScore(first, last, 0, 0.0, None)], None
    # The model was loaded on the settings' device (pipeline.models); scoring runs there.
    assert crops is not None and audio is not None  # narrowed by scorable
    result = score_track(crops, audio, model, batch_size=batch_size, fp16=fp16)  # type: ignore[arg-type]
    track_values = {
        "offset": result.offset,
        "confidence": result.confidence,
        "min_dist": result.min_dist,
        "n_windows": result.n_windows,
    }
    segments = []
    for span_first, span_last in split_track(track_frames, result.framewise_conf):
        scores = _span_scores(result.dists, span_first - first, span_last - first)
        offset, min_dist, conf = (
            scores if scores else (result.offset, result.min_dist, result.confidence)
        )
        segments.append(SegmentScore(span_first, span_last, offset, conf, min_dist))
    return segments, track_values
