"""Decode once and cut the 25 fps timeline into shots, detecting faces on the way.

Every timeline frame is decoded once (voxrepro.media, on a thread that runs a few frames
ahead), pushed to the online shot cutter (voxrepro.scenes, spec §5) and, on every
``detect_every``-th frame of its shot, queued for the face detector in batches. A finished
shot carries its full-resolution frames and one detection list per frame, which is all that
tracking, cropping and SyncNet need (spec §6–§8).

``detect_every`` N > 1 holds each detected frame's boxes for the next N-1 frames of the same
shot (a zero-order hold, like SEED §4.7) but, unlike SEED, with exact frame numbers, and the
hold restarts at each shot's first frame so that boxes never leak across a cut.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from voxrepro.detect import Detector
from voxrepro.media import TimelineFrame, iter_timeline
from voxrepro.pipeline.clock import StageClock
from voxrepro.pipeline.framestore import ShotFrames
from voxrepro.pipeline.prefetch import Prefetcher
from voxrepro.scenes import SceneCutter, SceneSample
from voxrepro.types import Pathlike

Detections = np.ndarray  # (K, 5) x1, y1, x2, y2, score in original pixels


@dataclass
class Shot:
    """One shot ``[start, end)`` on the 25 fps timeline with its frames and detections."""

    start: int
    frames: ShotFrames
    detections: list[Detections | None] = field(default_factory=list)

    @property
    def end(self) -> int:
        return self.start + len(self.frames)

    def __len__(self) -> int:
        return len(self.frames)

    def complete_detections(self) -> list[Detections]:
        """Per-frame detections once the shot is finished (holds filled in)."""
        if any(boxes is None for boxes in self.detections):
            raise RuntimeError("shot detections requested before the shot was finished")
        return [boxes for boxes in self.detections if boxes is not None]


class _DetectionQueue:
    """Batches frames for the detector on a background thread, overlapping decoding.

    One batch runs while the next fills (PyAV and OpenCV release the GIL, and a GPU forward
    waits on the device), so decoding and detection proceed together. Results are written
    back into their shot's list; ``flush`` waits for every batch handed over so far.
    """

    def __init__(self, detector: Detector, batch_size: int, clock: StageClock) -> None:
        self._detector = detector
        self._batch_size = batch_size
        self._clock = clock
        self._pending: list[tuple[Shot, int, object]] = []
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="voxrepro-detect")
        self._running: Future[None] | None = None
        self.frames_detected = 0

    def add(self, shot: Shot, local_index: int, prepared: object) -> None:
        """Queue one frame, already passed through the detector's ``prepare``."""
        self._pending.append((shot, local_index, prepared))
        if len(self._pending) >= self._batch_size:
            self._submit()

    def _submit(self) -> None:
        if not self._pending:
            return
        batch, self._pending = self._pending, []
        self._wait()  # at most one batch in flight: bounded memory, ordered results
        self._running = self._worker.submit(self._detect, batch)

    def _detect(self, batch: list[tuple[Shot, int, object]]) -> None:
        started = time.perf_counter()
        results = self._detector.detect_prepared([prepared for _, _, prepared in batch])
        for (shot, local_index, _), boxes in zip(batch, results, strict=True):
            shot.detections[local_index] = boxes
        self._clock.add("detect", time.perf_counter() - started)
        self.frames_detected += len(batch)

    def _wait(self) -> None:
        if self._running is not None:
            self._running.result()  # re-raises a detector error in the caller's thread
            self._running = None

    def prepare(self, frame: np.ndarray) -> object:
        return self._detector.prepare(frame)

    def flush(self) -> None:
        self._submit()
        self._wait()

    def close(self) -> None:
        self._worker.shutdown(wait=True)


def _fill_holds(shot: Shot) -> None:
    """Frames not detected take the boxes of the last detected frame before them (same shot)."""
    held: Detections | None = None
    for index, boxes in enumerate(shot.detections):
        if boxes is None:
            shot.detections[index] = held if held is not None else np.zeros((0, 5))
        else:
            held = boxes


def iter_shots(
    path: Pathlike,
    detector: Detector,
    *,
    batch_size: int,
    detect_every: int,
    clock: StageClock,
    shot_buffer_bytes: int,
    spill_dir: Path | None = None,
    decode_threads: int = 0,
    decode_gpu: int | None = None,
) -> Iterator[Shot]:
    """Yield the video's shots in order, each with frames and per-frame detections.

    The caller must finish with a shot (and may ``shot.frames.clear()``) before asking for the
    next one: the frame store is reused to keep memory bounded.

    Raises:
        DecodeError: the video cannot be decoded (one line naming the file).
    """
    cutter = SceneCutter()
    queue = _DetectionQueue(detector, batch_size, clock)
    # With every frame detected, the detector's per-frame work joins the decoding thread's.
    prepare = detector.prepare if detect_every == 1 else None
    decoded = Prefetcher(
        lambda: _decode_frames(path, decode_threads or True, decode_gpu, cutter, prepare)
    )
    try:
        yield from _shots(decoded, cutter, queue, detect_every, clock, shot_buffer_bytes, spill_dir)
    finally:
        decoded.close()
        queue.close()


@dataclass(frozen=True)
class _Decoded:
    """One timeline frame as the decoding thread hands it over."""

    item: TimelineFrame
    bgr: np.ndarray
    scene: SceneSample
    prepared: object | None  # the detector's prepare(bgr), when done on the decoding thread


def _decode_frames(
    path: Pathlike,
    threads: bool | int,
    gpu: int | None,
    cutter: SceneCutter,
    prepare: Callable[[np.ndarray], object] | None,
) -> Iterator[_Decoded]:
    # Runs on the prefetch thread, overlapping the shot work. Everything that reads the whole
    # frame happens here, just after the conversion, while the frame is still in the CPU cache.
    for item in iter_timeline(path, threads=threads, gpu=gpu):
        bgr = item.to_bgr()
        yield _Decoded(item, bgr, cutter.sample(bgr), prepare(bgr) if prepare else None)


def _shots(
    decoded: Iterator[_Decoded],
    cutter: SceneCutter,
    queue: _DetectionQueue,
    detect_every: int,
    clock: StageClock,
    shot_buffer_bytes: int,
    spill_dir: Path | None,
) -> Iterator[Shot]:
    shot: Shot | None = None
    while True:
        with clock("decode"):  # time spent waiting for the decoding thread
            frame = next(decoded, None)
        if frame is None:
            break
        with clock("scenes"):
            cut = cutter.push_sample(frame.scene)
        if shot is not None and cut:
            queue.flush()
            _fill_holds(shot)
            yield shot
            shot.frames.clear()
            shot = None
        if shot is None:
            shot = Shot(frame.item.index, ShotFrames(shot_buffer_bytes, spill_dir))
        local_index = len(shot.frames)
        shot.frames.append(frame.bgr)
        shot.detections.append(None)
        if local_index % detect_every == 0:
            prepared = frame.prepared
            queue.add(shot, local_index, queue.prepare(frame.bgr) if prepared is None else prepared)
    if shot is not None and len(shot.frames):
        queue.flush()
        _fill_holds(shot)
        yield shot
        shot.frames.clear()
