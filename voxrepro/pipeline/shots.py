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

import itertools
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from voxrepro.detect import Detector
from voxrepro.media import TimelineFrame, iter_timeline
from voxrepro.media.i420 import DeviceFrame
from voxrepro.pipeline.clock import StageClock
from voxrepro.pipeline.device_frames import (
    DeviceShotFrames,
    HostChunk,
    PinnedChunks,
    new_device_store,
    pack_chunks,
    takes_device_route,
    upload_chunk,
)
from voxrepro.pipeline.framestore import ShotFrames
from voxrepro.pipeline.prefetch import Prefetcher
from voxrepro.scenes import SceneCutter, SceneSample
from voxrepro.types import Pathlike

Detections = np.ndarray  # (K, 5) x1, y1, x2, y2, score in original pixels


@dataclass
class Shot:
    """One shot ``[start, end)`` on the 25 fps timeline with its frames and detections."""

    start: int
    frames: ShotFrames | DeviceShotFrames
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
    frame_device: torch.device | None = None,
    device_buffer_bytes: int = 0,
) -> Iterator[Shot]:
    """Yield the video's shots in order, each with frames and per-frame detections.

    The caller must finish with a shot (and may ``shot.frames.clear()``) before asking for the
    next one: the frame store is reused to keep memory bounded.

    ``frame_device`` (from ``resolve_frame_device``) sends frames packed to that device instead
    of converting them on the host (``voxrepro.pipeline.device_frames``); a video whose frames
    cannot go that way exactly (odd sizes, not 4:2:0) goes the host route. Shot frames are then
    ``DeviceShotFrames``, holding up to ``device_buffer_bytes`` on the device.

    Raises:
        DecodeError: the video cannot be decoded (one line naming the file).
    """
    cutter = SceneCutter()
    queue = _DetectionQueue(detector, batch_size, clock)
    # With every frame detected, the detector's per-frame work joins the decoding thread's.
    prepare = detector.prepare if detect_every == 1 else None
    threads = decode_threads or True
    store = _StoreFactory(shot_buffer_bytes, spill_dir, device_buffer_bytes)
    decoded: Prefetcher[Any]
    frames: Iterator[_Decoded]
    if frame_device is None:
        decoded = Prefetcher(lambda: _decode_frames(path, threads, decode_gpu, cutter, prepare))
        frames = decoded
    else:
        pool = PinnedChunks(pin=frame_device.type == "cuda")
        decoded = Prefetcher(
            lambda: _decode_chunks(path, threads, decode_gpu, cutter, prepare, pool), depth=3
        )
        frames = _upload_chunks(decoded, frame_device, pool, cutter, clock)
    try:
        yield from _shots(frames, cutter, queue, detect_every, clock, store)
    finally:
        decoded.close()
        queue.close()


@dataclass(frozen=True)
class _Decoded:
    """One timeline frame as the decoding thread (or the chunk upload) hands it over."""

    item: TimelineFrame
    frame: np.ndarray | DeviceFrame  # BGR on the host route, packed I420 on the device route
    scene: SceneSample
    prepared: object | None  # the detector's prepare(bgr), when done on the decoding thread


def _decoded_on_host(
    item: TimelineFrame, cutter: SceneCutter, prepare: Callable[[np.ndarray], object] | None
) -> _Decoded:
    # Everything that reads the whole frame happens here, just after the conversion, while
    # the frame is still in the CPU cache.
    bgr = item.to_bgr()
    return _Decoded(item, bgr, cutter.sample(bgr), prepare(bgr) if prepare else None)


def _decode_frames(
    path: Pathlike,
    threads: bool | int,
    gpu: int | None,
    cutter: SceneCutter,
    prepare: Callable[[np.ndarray], object] | None,
) -> Iterator[_Decoded]:
    # Runs on the prefetch thread, overlapping the shot work.
    for item in iter_timeline(path, threads=threads, gpu=gpu):
        yield _decoded_on_host(item, cutter, prepare)


def _decode_chunks(
    path: Pathlike,
    threads: bool | int,
    gpu: int | None,
    cutter: SceneCutter,
    prepare: Callable[[np.ndarray], object] | None,
    pool: PinnedChunks,
) -> Iterator[HostChunk | _Decoded]:
    # The device route's decoding thread: pack frames into chunks, unless the first frame
    # shows that this video cannot take the device route exactly.
    timeline = iter_timeline(path, threads=threads, gpu=gpu)
    first = next(timeline, None)
    if first is None:
        return
    if takes_device_route(first):
        yield from pack_chunks(itertools.chain([first], timeline), pool)
        return
    for item in itertools.chain([first], timeline):
        yield _decoded_on_host(item, cutter, prepare)


def _upload_chunks(
    decoded: Iterator[HostChunk | _Decoded],
    device: torch.device,
    pool: PinnedChunks,
    cutter: SceneCutter,
    clock: StageClock,
) -> Iterator[_Decoded]:
    for entry in decoded:
        if isinstance(entry, _Decoded):
            yield entry
            continue
        with clock("upload"):
            uploaded = upload_chunk(entry, device, pool, cutter.downscale)
        for one in uploaded:
            yield _Decoded(one.item, one.frame, one.scene, one.frame)


class _StoreFactory:
    """A new shot's frame store, of the kind its first frame needs."""

    def __init__(self, host_bytes: int, spill_dir: Path | None, device_bytes: int) -> None:
        self.host_bytes, self.spill_dir, self.device_bytes = host_bytes, spill_dir, device_bytes

    def __call__(self, first: np.ndarray | DeviceFrame) -> ShotFrames | DeviceShotFrames:
        if isinstance(first, DeviceFrame):
            return new_device_store(self.device_bytes, self.host_bytes, self.spill_dir)
        return ShotFrames(self.host_bytes, self.spill_dir)


def _shots(
    decoded: Iterator[_Decoded],
    cutter: SceneCutter,
    queue: _DetectionQueue,
    detect_every: int,
    clock: StageClock,
    new_store: _StoreFactory,
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
            shot = Shot(frame.item.index, new_store(frame.frame))
        local_index = len(shot.frames)
        shot.frames.append(frame.frame)  # type: ignore[arg-type]  # the store fits the frame
        shot.detections.append(None)
        if local_index % detect_every == 0:
            prepared = frame.prepared
            if prepared is None:
                prepared = queue.prepare(frame.frame)  # type: ignore[arg-type]  # host BGR
            queue.add(shot, local_index, prepared)
    if shot is not None and len(shot.frames):
        queue.flush()
        _fill_holds(shot)
        yield shot
        shot.frames.clear()
