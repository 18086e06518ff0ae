"""The single decoding pass of recrop: cut every pending clip of one source as frames go by.

The main thread decodes, places frames on the 25 fps timeline and prepares each clip frame
(crop + resize of the window, :meth:`voxrepro.media.ClipWriter.prepare_window`); one background
thread encodes and muxes, so decoding and encoding overlap on two cores (PyAV releases the GIL
inside FFmpeg). The queue between them is bounded, and a clip's writer exists only while the pass
is inside that clip, so memory is bounded by the clips that overlap in time.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from voxrepro import media
from voxrepro.errors import DecodeError
from voxrepro.recrop_summary import FailureReason, SegmentResult, SegmentStatus, make_result
from voxrepro.segment import Segment

#: Prepared frames waiting for the encoder thread (224x224 I420 is 75 KB a frame).
QUEUE_DEPTH = 48


@dataclass(slots=True)
class PendingClip:
    """A segment still to be written: destination, one window per frame, audio and size."""

    segment: Segment
    dest: Path
    windows: np.ndarray  # (N, 4) int x1, y1, x2, y2 in source pixels
    audio: np.ndarray | None  # mono int16 at 16 kHz for [first/25, (last+1)/25), or None
    size: int
    notes: list[str] = field(default_factory=list)
    writer: media.ClipWriter | None = None
    row: int = 0  # next row of segment.frames to write


class BackgroundEncoder:
    """Run submitted calls on one thread, in order; the first error is re-raised on close."""

    def __init__(self, depth: int = QUEUE_DEPTH) -> None:
        self._jobs: queue.Queue[tuple[Callable[..., Any], tuple[Any, ...]] | None] = queue.Queue(
            maxsize=depth
        )
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._work, name="voxrepro-encode", daemon=True)
        self._thread.start()

    def submit(self, call: Callable[..., Any], *args: Any) -> None:
        if self._error is not None:
            raise self._error
        self._jobs.put((call, args))

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            if self._error is not None:
                continue  # drain after a failure
            call, args = job
            try:
                call(*args)
            except BaseException as error:
                self._error = error

    def close(self) -> None:
        """Wait for every submitted call; raise the first error any of them raised."""
        self._jobs.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error


def cut_clips(
    source: Path, pending: list[PendingClip], decode_threads: int = 0
) -> list[SegmentResult]:
    """Write every pending clip of ``source`` from one pass over its 25 fps timeline
    (``decode_threads``: FFmpeg decoder threads, 0 for FFmpeg's choice).

    Never raises for bad media: a decoding or encoding failure fails the clips not yet
    finished (finished clips stay written); a segment past the end of the video fails with
    ``past_end``.
    """
    if not pending:
        return []
    start = min(p.segment.first_frame for p in pending)
    wanted = np.unique(np.concatenate([p.segment.frames for p in pending]))
    by_first = sorted(pending, key=lambda p: p.segment.first_frame)
    active: list[PendingClip] = []
    committed: list[PendingClip] = []
    encoder = BackgroundEncoder()
    next_opening = 0
    failure: tuple[FailureReason, str] | None = None
    try:
        # Only the frames some clip needs are decoded (keyframe intervals in between skipped).
        threads = decode_threads or True
        for item in media.iter_timeline(source, start, wanted=wanted, threads=threads):
            while (
                next_opening < len(by_first)
                and by_first[next_opening].segment.first_frame <= item.index
            ):
                opening = by_first[next_opening]
                opening.writer = media.ClipWriter(
                    opening.dest, opening.size, opening.audio, threads=1
                )
                active.append(opening)
                next_opening += 1
            for entry in list(active):
                _feed(entry, item, encoder)
                if entry.row == entry.segment.num_frames:
                    active.remove(entry)
                    committed.append(entry)
                    encoder.submit(_commit, entry)
    except DecodeError as error:
        failure = (FailureReason.CORRUPT_SOURCE, str(error))
    finally:
        try:
            encoder.close()
        except (DecodeError, OSError) as error:
            failure = failure or (FailureReason.WRITE_FAILED, str(error))
        finally:
            for entry in active + committed:
                if entry.writer is not None and not entry.writer.closed:
                    entry.writer.discard()
    return _results(source, pending, failure)


def _feed(entry: PendingClip, item: media.TimelineFrame, encoder: BackgroundEncoder) -> None:
    frames = entry.segment.frames
    if entry.row < frames.shape[0] and frames[entry.row] == item.index:
        assert entry.writer is not None
        packed = entry.writer.prepare_window(item, entry.windows[entry.row])
        encoder.submit(entry.writer.add_prepared, packed)
        entry.row += 1


def _commit(entry: PendingClip) -> None:
    assert entry.writer is not None
    entry.writer.commit()


def _results(
    source: Path, pending: list[PendingClip], failure: tuple[FailureReason, str] | None
) -> list[SegmentResult]:
    results = []
    ends = ""
    for entry in pending:
        segment = entry.segment
        if entry.writer is not None and entry.writer.committed:
            written = make_result(segment, SegmentStatus.WRITTEN, entry.dest)
            written.notes.extend(entry.notes)
            results.append(written)
        elif failure is not None:
            reason, message = failure
            results.append(make_result(segment, SegmentStatus.FAILED, entry.dest, reason, message))
        else:
            if not ends:  # only when a clip ran past the end: costs one packet scan
                try:
                    ends = f"ends at frame {media.timeline_length(source) - 1}"
                except DecodeError:
                    ends = "ends earlier"
            message = (
                f"{segment.where()}: needs frames {segment.first_frame}..{segment.last_frame} "
                f"but {source.name} {ends} on the 25 fps timeline"
            )
            reason = FailureReason.PAST_END
            results.append(make_result(segment, SegmentStatus.FAILED, entry.dest, reason, message))
    return results
