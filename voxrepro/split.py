"""Frame-wise SyncNet confidence -> well-synced segments (spec §9, SEED post-processing).

Per track: the §9 frame-wise confidence is laid on the video's global 25 fps frames (-1 where
the track has no face), maximal runs with value **> 2.1** are found, runs whose start is within
**15** frames of the previous run's end are merged (up to 14 sub-threshold frames bridged),
merged runs with ``end - start >= 75`` are kept, and **5 frames** are trimmed from each end.

Span convention (decided here, used by every caller): a span ``(first, last)`` is **inclusive
at both ends**, ``first = s + 5`` and ``last = e - 6`` for a kept run (s, e). Those are exactly
the frames SEED writes to the clip (``range(s+5, e-5)``) and the audio it cuts
(``-ss (s+5)/25 -to (e-5)/25`` = [first/25, (last+1)/25)). A metafile written from a span has one
row per frame first..last, so re-cropping it (spec §10.2: [FRAME_first/25, (FRAME_last+1)/25))
gives exactly the clip's frames. SEED's unused ``generate_meta`` wrote one row more (through
e-5); we do not replicate that row. A kept span always has ``last - first + 1 >= 65`` frames.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from voxrepro.errors import InvalidInputError

#: Frames count as well synced when their frame-wise confidence is strictly above this.
MIN_CONF = 2.1
#: Runs merge when next.start - current.end <= this (up to 14 sub-threshold frames between).
MAX_GAP = 15
#: A merged run is kept when end - start >= this (inclusive ends: >= 76 frames, ~3 s).
MIN_LENGTH = 75
#: Frames dropped from each end of a kept run.
TRIM = 5
#: Series value for frames where the track has no face.
ABSENT = -1.0

Span = tuple[int, int]


def build_series(
    frames: npt.NDArray[np.integer],
    framewise_conf: npt.NDArray[np.floating],
    n_video_frames: int | None = None,
) -> npt.NDArray[np.float64]:
    """Lay one track's frame-wise confidence on the video's global frame axis.

    Args:
        frames: (N,) strictly increasing, contiguous global 25 fps frame indices of the track.
        framewise_conf: (N,) frame-wise confidence, element j for ``frames[j]``.
        n_video_frames: length of the series (frames in the video); at least
            ``frames[-1] + 1``, which is the default.

    Returns:
        (n_video_frames,) float64: the confidence on the track's frames, -1 elsewhere.

    Raises:
        InvalidInputError: mismatched lengths, negative, unordered or non-contiguous frames,
            or a series too short for the track.
    """
    frames = np.asarray(frames)
    conf = np.asarray(framewise_conf, dtype=np.float64)
    if frames.ndim != 1 or frames.shape != conf.shape:
        raise InvalidInputError(
            f"frames and framewise_conf must be two (N,) arrays of one length, got "
            f"{frames.shape} and {conf.shape}"
        )
    if len(frames) == 0:
        return np.full(n_video_frames or 0, ABSENT)
    if frames[0] < 0 or np.any(np.diff(frames) != 1):
        # Tracks are interpolated over every frame they span; a hole would let a merged
        # segment cover frames without a box (SEED crashes there).
        raise InvalidInputError(
            f"track frames must be contiguous and non-negative (got {frames[0]}..{frames[-1]}, "
            f"{len(frames)} frames)"
        )
    length = int(frames[-1]) + 1 if n_video_frames is None else n_video_frames
    if length < frames[-1] + 1:
        raise InvalidInputError(
            f"series of {length} frames cannot hold a track ending at frame {frames[-1]}"
        )
    series = np.full(length, ABSENT)
    series[frames] = conf
    return series


def find_runs(series: npt.NDArray[np.floating], min_conf: float = MIN_CONF) -> list[Span]:
    """Maximal runs of values strictly above ``min_conf``.

    Args:
        series: per-frame values (index = global frame).
        min_conf: threshold (strict ``>``).

    Returns:
        (start, end) inclusive index pairs, in order.
    """
    above = np.concatenate(([False], np.asarray(series) > min_conf, [False]))
    edges = np.flatnonzero(np.diff(above.astype(np.int8)))
    return [
        (int(start), int(stop) - 1) for start, stop in zip(edges[::2], edges[1::2], strict=True)
    ]


def merge_runs(
    runs: Sequence[Span], max_gap: int = MAX_GAP, min_length: int = MIN_LENGTH
) -> list[Span]:
    """Merge runs left to right and keep the long ones (SEED's ``modify_segments``).

    Args:
        runs: (start, end) inclusive runs in increasing order.
        max_gap: merge when ``next.start - current.end <= max_gap``.
        min_length: keep a merged run when ``end - start >= min_length``.

    Returns:
        Kept (start, end) inclusive runs.
    """
    if not runs:
        return []
    kept: list[Span] = []
    current_start, current_end = runs[0]
    for start, end in runs[1:]:
        if start - current_end <= max_gap:
            current_end = end
            continue
        if current_end - current_start >= min_length:
            kept.append((current_start, current_end))
        current_start, current_end = start, end
    if current_end - current_start >= min_length:
        kept.append((current_start, current_end))
    return kept


def trim_span(run: Span, trim: int = TRIM) -> Span:
    """The frames written for a kept run (s, e): ``(s + trim, e - trim - 1)``, inclusive.

    Equivalent to SEED's half-open ``[s + trim, e - trim)``; see the module docstring.
    """
    start, end = run
    return start + trim, end - trim - 1


def split_track(
    frames: npt.NDArray[np.integer],
    framewise_conf: npt.NDArray[np.floating],
    *,
    min_conf: float = MIN_CONF,
    max_gap: int = MAX_GAP,
    min_length: int = MIN_LENGTH,
    trim: int = TRIM,
) -> list[Span]:
    """Well-synced segments of one track (spec §9 steps 2-5).

    Args:
        frames: (N,) contiguous global 25 fps frame indices of the track.
        framewise_conf: (N,) §9 frame-wise confidence (``SyncResult.framewise_conf``).
        min_conf: a frame is in sync when its confidence is strictly above this.
        max_gap: merge runs when ``next.start - current.end <= max_gap``.
        min_length: keep a merged run (s, e) when ``e - s >= min_length``.
        trim: frames dropped at each end of a kept run.

    Returns:
        Global frame spans ``(first, last)``, **both inclusive**, after the trim:
        ``(s + trim, e - trim - 1)`` for each kept run (s, e).

    Raises:
        InvalidInputError: mismatched or non-contiguous inputs (see ``build_series``).
    """
    series = build_series(frames, framewise_conf)
    runs = merge_runs(find_runs(series, min_conf), max_gap, min_length)
    return [trim_span(run, trim) for run in runs]
