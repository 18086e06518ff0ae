"""Recrop published segments from downloaded sources: one decoding pass per source video.

``recrop_source`` is the per-video worker, a pure function of (source, its segments, settings)
returning one :class:`SegmentResult` per segment and never raising for bad input: frames
``first..last`` (inclusive, 25 fps timeline) are cut with the mode's window, resized to the
output size and written with audio ``[first/25, (last+1)/25)`` (16 kHz mono, unshifted: the
published Offset is not applied) as H.264 + AAC mp4. All segments of a video are written from
one decoding pass, each through its own streaming :class:`voxrepro.media.ClipWriter` (open only
while the pass is inside the segment), so memory is bounded by the segments that overlap in
time, not by the video's length. Clips are written to temporary names and renamed; a clip that
already exists is skipped, so a rerun resumes. ``run_recrop`` groups segments by source (all at
once, or streamed in bounded memory after a counting pass) and distributes sources over
``voxrepro.executor.run_parallel``, which pulls jobs only as workers free up.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voxrepro import media
from voxrepro.atomic import remove_stale_temps, write_json_atomic
from voxrepro.cpu_budget import limit_cpu_threads, threads_per_worker
from voxrepro.errors import DecodeError, InvalidInputError
from voxrepro.executor import run_parallel
from voxrepro.recrop_plan import RecropSettings, clip_path, crop_windows, find_source
from voxrepro.recrop_summary import (
    FailureReason,
    RecropSummary,
    SegmentResult,
    SegmentStatus,
    fail_all,
    make_result,
)
from voxrepro.recrop_write import PendingClip, cut_clips
from voxrepro.segment import Segment
from voxrepro.types import SAMPLES_PER_FRAME

log = logging.getLogger("voxrepro")

#: The summary file written under the output root.
SUMMARY_NAME = "recrop.json"


@dataclass(slots=True)
class SourceJob:
    """One source video and every segment cut from it (the unit of work of a worker)."""

    reference: str
    segments: list[Segment]
    settings: RecropSettings


def recrop_source(job: SourceJob) -> list[SegmentResult]:
    """Write every clip of one source video from a single decoding pass (never raises)."""
    results: list[SegmentResult] = []
    todo: list[tuple[Segment, Path]] = []
    for segment in job.segments:
        try:
            dest = clip_path(job.settings.out, segment)
        except InvalidInputError as error:
            results.extend(fail_all([(segment, None)], FailureReason.INVALID, str(error)))
            continue
        if dest.exists():
            results.append(make_result(segment, SegmentStatus.SKIPPED, dest))
        else:
            todo.append((segment, dest))
    if todo:
        try:
            results.extend(_cut_all(job, todo))
        except Exception as error:  # the worker's edge: one bad video never stops the run
            log.exception("recrop of %s failed unexpectedly", job.reference)
            done = {r.key for r in results}
            left = [(s, d) for s, d in todo if s.key not in done]
            message = f"{job.reference}: unexpected error: {error}"
            results.extend(fail_all(left, FailureReason.INTERNAL, message))
    return results


def _cut_all(job: SourceJob, todo: list[tuple[Segment, Path]]) -> list[SegmentResult]:
    try:
        source = find_source(job.settings.videos, job.reference)
    except InvalidInputError as error:
        return fail_all(todo, FailureReason.INVALID, str(error))
    if source is None:
        where = job.settings.videos / f"{job.reference}.(mp4|mkv|webm)"
        return fail_all(todo, FailureReason.MISSING_SOURCE, f"{where}: no such source video")
    try:
        info = media.probe_video(source)
        pending, results = _plan(job, todo, info)
        spans = [_audio_span(p.segment) for p in pending]
        audio, has_audio = media.read_audio_spans(source, spans)
    except DecodeError as error:
        return fail_all(todo, FailureReason.CORRUPT_SOURCE, str(error))
    for item, samples, (start, stop) in zip(pending, audio, spans, strict=True):
        if not has_audio:
            item.notes.append("source has no audio: clip written without an audio track")
            continue
        if samples.shape[0] < stop - start:
            missing = stop - start - samples.shape[0]
            item.notes.append(f"audio ends early: {missing} samples of silence appended")
            samples = np.concatenate([samples, np.zeros(missing, dtype=np.int16)])
        item.audio = samples
    results.extend(cut_clips(source, pending, job.settings.decode_threads))
    return results


def _audio_span(segment: Segment) -> tuple[int, int]:
    """Samples ``[first/25, (last+1)/25)`` at 16 kHz: the clip's audio, not shifted by Offset."""
    return segment.first_frame * SAMPLES_PER_FRAME, (segment.last_frame + 1) * SAMPLES_PER_FRAME


def _plan(
    job: SourceJob, todo: list[tuple[Segment, Path]], info: media.VideoInfo
) -> tuple[list[PendingClip], list[SegmentResult]]:
    pending: list[PendingClip] = []
    failed: list[SegmentResult] = []
    for segment, dest in todo:
        if segment.num_frames == 0 or np.any(np.diff(segment.frames) <= 0):
            message = f"{segment.where()}: frames must be a non-empty increasing run"
            failed.extend(fail_all([(segment, dest)], FailureReason.INVALID, message))
            continue
        try:
            windows = crop_windows(segment, job.settings, info.width, info.height)
        except (InvalidInputError, ValueError) as error:
            message = str(error) if segment.where() in str(error) else f"{segment.where()}: {error}"
            failed.extend(fail_all([(segment, dest)], FailureReason.INVALID, message))
            continue
        pending.append(PendingClip(segment, dest, windows, None, job.settings.size_for(segment)))
    return pending, failed


def group_by_source(segments: Iterable[Segment], settings: RecropSettings) -> Iterator[SourceJob]:
    """One job per source video, holding all its segments (order of first appearance).

    All segments are read before the first job starts, so that a reference listed under several
    identities is still decoded only once; memory is that of all the metadata (fine for a test
    set; for a million segments use ``stream_by_source``).
    """
    groups: dict[str, list[Segment]] = {}
    for segment in segments:
        groups.setdefault(segment.reference, []).append(segment)
    for reference, members in groups.items():
        yield SourceJob(reference, members, settings)


def count_by_reference(segments: Iterable[Segment]) -> Counter[str]:
    """How many segments each reference has (a first pass for ``stream_by_source``)."""
    return Counter(segment.reference for segment in segments)


def stream_by_source(
    segments: Iterable[Segment], counts: Mapping[str, int], settings: RecropSettings
) -> Iterator[SourceJob]:
    """``group_by_source`` in bounded memory: a source's job leaves as soon as its last segment
    (per ``counts``, from a first pass over the same metadata) has been read.

    In a Vox tree a reference's files are contiguous under each identity, so only the sources
    being read (and those listed under several identities, until their last listing) are held.
    A source whose count was not reached (metadata changed between the passes) still gets its
    job at the end, so nothing is lost.
    """
    open_groups: dict[str, list[Segment]] = {}
    for segment in segments:
        members = open_groups.setdefault(segment.reference, [])
        members.append(segment)
        if len(members) >= counts.get(segment.reference, 0):
            del open_groups[segment.reference]
            yield SourceJob(segment.reference, members, settings)
    for reference, members in open_groups.items():
        yield SourceJob(reference, members, settings)


def run_recrop(
    segments: Iterable[Segment],
    settings: RecropSettings,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
    summary_settings: dict[str, object] | None = None,
    counts: Mapping[str, int] | None = None,
) -> RecropSummary:
    """Recrop every segment, one job per source video, and write ``OUT/recrop.json``.

    Args:
        segments: the segments to cut (any dataset; see :mod:`voxrepro.recrop_plan`), read
            once, as a stream when ``counts`` is given.
        settings: where sources are, where clips go, crop mode and size.
        workers: processes (1: in this process).
        progress: called with the number of segments finished after each source.
        summary_settings: extra values recorded under ``settings`` in the summary.
        counts: segments per reference (``count_by_reference`` over the same metadata): jobs
            are then streamed in bounded memory instead of grouped all at once.

    Returns:
        The summary (also written atomically to ``OUT/recrop.json``).
    """
    started = time.perf_counter()
    settings.out.mkdir(parents=True, exist_ok=True)
    removed = remove_stale_temps(settings.out)
    if removed:
        log.info("removed %d temporary files left by an interrupted run", removed)
    summary = RecropSummary(settings=dict(summary_settings or {}))
    initializer: Callable[[int], None] | None = None
    initargs: tuple[int, ...] = ()
    if workers > 1:
        # Each worker gets its share of the cores: left alone, every worker's decoder, OpenCV
        # and BLAS pools size themselves to the whole machine.
        threads = threads_per_worker(workers)
        if not settings.decode_threads:
            settings = dataclasses.replace(settings, decode_threads=threads)
        initializer, initargs = limit_cpu_threads, (threads,)
        summary.settings["threads_per_worker"] = threads
    summary.settings["decode_threads"] = settings.decode_threads or "auto"
    jobs: Iterable[SourceJob]
    if counts is None:
        jobs = list(group_by_source(segments, settings))
        summary.sources = len(jobs)
    else:
        jobs = stream_by_source(segments, counts, settings)
        summary.sources = len(counts)
    for results in run_parallel(recrop_source, jobs, workers, initializer, initargs):
        for result in results:
            summary.add(result)
        if progress is not None:
            progress(len(results))
    summary.elapsed_seconds = time.perf_counter() - started
    write_json_atomic(settings.out / SUMMARY_NAME, summary.to_dict())
    return summary
