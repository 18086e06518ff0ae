"""Download source videos by YouTube id with the yt-dlp Python API (spec §2), resumably.

Every id is validated before any request. Each video is fetched by one worker thread with
``yt_dlp.YoutubeDL(opts).extract_info(url, download=True)`` (never a shell) into a private work
folder ``<out>/.partial/<id>/``; only a complete file that probes as a video is moved (one
``os.replace``) to ``<out>/<id>.<ext>``, so the output folder never holds half a download.
Failures are classified (``voxrepro.failures``): transient ones are retried with exponential
backoff and jitter up to ``retries`` times, permanent ones are not retried, and every attempt is
recorded in the SQLite state (``voxrepro.store``) that makes a rerun skip finished work.
This module is the only one in voxrepro that talks to the network.
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import os
import random
import shutil
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from voxrepro.download_options import (
    ID_PLACEHOLDER,
    DownloadOptions,
    Pacer,
    backoff_delay,
    build_ydl_options,
)
from voxrepro.errors import DecodeError
from voxrepro.failures import (
    Failure,
    FailureClass,
    FailureReason,
    classify_failure,
    failure_for,
    normalise_message,
)
from voxrepro.safety import safe_join, validate_youtube_id
from voxrepro.store import DownloadStore, MediaInfo, VideoState, VideoStatus, state_path
from voxrepro.types import ProgressFn

log = logging.getLogger("voxrepro")

PARTIAL_DIRNAME = ".partial"
COOKIES_COPY_NAME = ".cookies.txt"
#: Containers yt-dlp may leave after a merge or a single-file download.
MEDIA_SUFFIXES = (".mp4", ".mkv", ".webm", ".mov", ".m4v", ".flv", ".3gp")
_LEFTOVER_SUFFIXES = (".part", ".ytdl", ".temp")


@dataclass(frozen=True)
class DownloadResult:
    """What happened to one video in this run.

    Attributes:
        state: its row in the state database after this run.
        skipped: True when nothing was requested (already done, or a permanent failure).
        attempts_run: attempts made in this run (``state.attempts`` counts all runs).
    """

    state: VideoState
    skipped: bool
    attempts_run: int

    @property
    def video_id(self) -> str:
        return self.state.video_id

    @property
    def status(self) -> VideoStatus:
        return self.state.status


class _AttemptFailed(Exception):
    def __init__(self, message: str, failure: Failure | None = None) -> None:
        super().__init__(message)
        self.failure = failure or classify_failure(message)


def probe_download(path: Path) -> MediaInfo:
    """Width, height, fps and duration of a downloaded file (voxrepro.media does the I/O)."""
    from voxrepro.media import probe_video

    info = probe_video(path)
    return MediaInfo(
        width=info.width, height=info.height, fps=float(info.fps), duration=info.duration
    )


def existing_download(out_dir: Path, video_id: str) -> Path | None:
    """The finished file ``<out>/<id>.<ext>`` if there is one."""
    for suffix in MEDIA_SUFFIXES:
        candidate = out_dir / f"{video_id}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def _remove_leftovers(out_dir: Path, workdir: Path, video_id: str) -> None:
    """Drop what a killed run left for this id: its work folder and stray yt-dlp parts."""
    shutil.rmtree(workdir, ignore_errors=True)
    for leftover in out_dir.glob(f"{video_id}.*"):
        if leftover.suffix in _LEFTOVER_SUFFIXES and leftover.is_file():
            leftover.unlink(missing_ok=True)


def _produced_file(workdir: Path, video_id: str) -> Path | None:
    for path in sorted(workdir.glob(f"{video_id}.*")):
        if path.suffix in MEDIA_SUFFIXES and ".temp" not in path.suffixes and path.is_file():
            return path
    return None


def _attempt(video_id: str, options: DownloadOptions, workdir: Path) -> tuple[Path, MediaInfo]:
    """One yt-dlp run; returns the final path and its probe, or raises _AttemptFailed."""
    import yt_dlp

    workdir.mkdir(parents=True, exist_ok=True)
    url = options.url_template.replace(ID_PLACEHOLDER, video_id)
    try:
        cookiefile = None
        if options.cookies is not None:
            cookiefile = workdir / COOKIES_COPY_NAME
            shutil.copyfile(options.cookies, cookiefile)
        with yt_dlp.YoutubeDL(build_ydl_options(options, workdir, video_id, cookiefile)) as ydl:
            ydl.extract_info(url, download=True)
    except Exception as error:  # the per-video edge: extractors raise anything
        raise _AttemptFailed(str(error) or type(error).__name__) from error
    produced = _produced_file(workdir, video_id)
    if produced is None:
        raise _AttemptFailed(
            "yt-dlp finished but wrote no video file", failure_for(FailureReason.INCOMPLETE)
        )
    try:
        media = probe_download(produced)
    except DecodeError as error:
        raise _AttemptFailed(str(error), failure_for(FailureReason.INVALID_MEDIA)) from error
    final = safe_join(options.out_dir, f"{video_id}{produced.suffix}")
    os.replace(produced, final)
    return final, media


def download_video(
    video_id: str,
    options: DownloadOptions,
    store: DownloadStore,
    stop: threading.Event | None = None,
    pacer: Pacer | None = None,
    rng: random.Random | None = None,
) -> DownloadResult:
    """Bring one (validated) video to done or failed, retrying transient failures.

    Never raises for a bad video: the outcome is in the returned result and in ``store``.
    """
    stop = stop or threading.Event()
    rng = rng or random.Random()
    out_dir = options.out_dir
    state = store.get(video_id)
    present = existing_download(out_dir, video_id)
    if state is not None and state.status is VideoStatus.DONE and present is not None:
        return DownloadResult(state, skipped=True, attempts_run=0)
    if present is not None:
        try:  # a file from an earlier tool or a lost state database: adopt it
            store.mark_done(video_id, present, probe_download(present))
            return DownloadResult(_state(store, video_id), skipped=True, attempts_run=0)
        except DecodeError as error:
            log.warning(
                "%s: existing file does not decode, downloading again (%s)", video_id, error
            )
    if (
        state is not None
        and state.status is VideoStatus.FAILED
        and state.failure_class is FailureClass.PERMANENT
        and not options.retry_failed
    ):
        return DownloadResult(state, skipped=True, attempts_run=0)

    workdir = safe_join(out_dir / PARTIAL_DIRNAME, video_id)
    _remove_leftovers(out_dir, workdir, video_id)
    attempts_run = 0
    try:
        for retry in range(options.retries + 1):
            if stop.is_set():
                break
            if pacer is not None:
                pacer.wait(stop)
            attempts_run += 1
            store.start_attempt(video_id)
            try:
                final, media = _attempt(video_id, options, workdir)
            except _AttemptFailed as failed:
                message = normalise_message(str(failed), video_id)
                failure = failed.failure
                store.mark_failed(video_id, failure.failure_class, failure.reason, message)
                log.debug("%s: attempt %d failed: %s", video_id, attempts_run, message)
                if failure.permanent or retry == options.retries:
                    break
                stop.wait(backoff_delay(retry + 1, options.backoff, options.backoff_max, rng))
                continue
            store.mark_done(video_id, final, media)
            break
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return DownloadResult(_state(store, video_id), skipped=False, attempts_run=attempts_run)


def _state(store: DownloadStore, video_id: str) -> VideoState:
    state = store.get(video_id)
    return state if state is not None else VideoState(video_id, VideoStatus.PENDING)


def download_videos(
    video_ids: Iterable[str],
    options: DownloadOptions,
    progress: ProgressFn | None = None,
    stop: threading.Event | None = None,
) -> list[DownloadResult]:
    """Download ids with ``options.workers`` threads; results in input order.

    Raises:
        InvalidInputError: a bad option or an id that is not a YouTube id (before any work).

    On KeyboardInterrupt the pending videos are cancelled, running ones finish their current
    attempt, and the state stays consistent for a rerun.
    """
    options.validate()
    ids = list(dict.fromkeys(video_ids))
    for video_id in ids:  # callers validate with reasons; this is the last line of defence
        validate_youtube_id(video_id, "download")
    out_dir = Path(options.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stop = stop or threading.Event()
    pacer = Pacer(options.sleep)
    by_id: dict[str, DownloadResult] = {}
    with DownloadStore(state_path(out_dir)) as store:
        for video_id in ids:
            store.add_pending(video_id)
        pool = cf.ThreadPoolExecutor(max_workers=options.workers, thread_name_prefix="voxrepro-dl")
        try:
            futures = [pool.submit(download_video, v, options, store, stop, pacer) for v in ids]
            for future in cf.as_completed(futures):
                result = future.result()
                by_id[result.video_id] = result
                if progress is not None:
                    progress(1)
        except BaseException:
            stop.set()
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        finally:
            pool.shutdown(wait=True)
    with_partial = out_dir / PARTIAL_DIRNAME
    if with_partial.is_dir() and not any(with_partial.iterdir()):
        with_partial.rmdir()
    return [by_id[v] for v in ids]
