"""Settings of a download run and what they become for yt-dlp (no network here).

``DownloadOptions`` holds every knob of ``voxrepro download``; ``build_ydl_options`` turns it
into the parameters of one yt-dlp attempt. Retry delays (``backoff_delay``) and the per-worker
spacing of requests (``Pacer``) live here too, so that ``voxrepro.download`` is only the flow.
"""

from __future__ import annotations

import functools
import logging
import random
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voxrepro.errors import InvalidInputError
from voxrepro.types import Seconds

log = logging.getLogger("voxrepro")

#: SEED's format choice (spec §2) with a single-file fallback for sites without DASH.
DEFAULT_FORMAT = "bv*[ext=mp4]+ba[ext=m4a]/bv*+ba/b"
DEFAULT_URL_TEMPLATE = "https://www.youtube.com/watch?v={id}"
ID_PLACEHOLDER = "{id}"
_HARMLESS_WARNINGS = ("Falling back on generic information extractor", "ffprobe not found")


@dataclass(frozen=True)
class DownloadOptions:
    """Settings of one download run (seconds for every duration).

    Attributes:
        out_dir: where ``<id>.<ext>`` files and ``download_state.sqlite3`` go.
        workers: parallel worker threads.
        proxy: proxy URL handed to yt-dlp, e.g. ``http://host:3128``.
        cookies: a Netscape cookies.txt file handed to yt-dlp.
        format: yt-dlp format selector.
        retries: extra attempts for transient failures within one run.
        sleep: minimum seconds between the starts of two requests of one worker.
        url_template: URL with ``{id}`` where the video id goes.
        retry_failed: also retry videos whose earlier failure was permanent.
        backoff: first retry delay; doubles per retry, plus up to 50 % random jitter.
        backoff_max: cap of the retry delay before jitter.
        socket_timeout: yt-dlp's network timeout.
    """

    out_dir: Path
    workers: int = 1
    proxy: str | None = None
    cookies: Path | None = None
    format: str = DEFAULT_FORMAT
    retries: int = 3
    sleep: Seconds = 0.0
    url_template: str = DEFAULT_URL_TEMPLATE
    retry_failed: bool = False
    backoff: Seconds = 2.0
    backoff_max: Seconds = 120.0
    socket_timeout: Seconds = 30.0

    def validate(self) -> None:
        """Raise InvalidInputError (one line, naming the option) for an unusable setting."""
        checks = (
            (self.workers >= 1, f"--workers must be at least 1 (got {self.workers})"),
            (self.retries >= 0, f"--retries must be 0 or more (got {self.retries})"),
            (self.sleep >= 0, f"--sleep must be 0 or more seconds (got {self.sleep})"),
            (self.backoff >= 0, f"--backoff must be 0 or more seconds (got {self.backoff})"),
            (self.socket_timeout > 0, "socket timeout must be positive"),
            (bool(self.format.strip()), "--format must not be empty"),
            (
                ID_PLACEHOLDER in self.url_template,
                f"--url-template must contain {ID_PLACEHOLDER} (got {self.url_template!r})",
            ),
        )
        for ok, message in checks:
            if not ok:
                raise InvalidInputError(message)
        if self.cookies is not None and not Path(self.cookies).is_file():
            raise InvalidInputError(f"{self.cookies}: cookies file not found")


def backoff_delay(retry: int, base: Seconds, cap: Seconds, rng: random.Random) -> Seconds:
    """Delay before retry number ``retry`` (1-based): ``min(cap, base * 2**(retry-1))`` plus
    up to 50 % jitter, so that workers hit by the same rate limit do not retry in lockstep."""
    delay = min(cap, base * 2 ** max(0, retry - 1))
    return delay * (1.0 + 0.5 * rng.random())


class Pacer:
    """Per-worker-thread spacing of request starts by at least ``interval`` seconds."""

    def __init__(self, interval: Seconds) -> None:
        self.interval = interval
        self._local = threading.local()

    def wait(self, stop: threading.Event) -> None:
        last = getattr(self._local, "last", None)
        if last is not None and self.interval > 0:
            remaining = self.interval - (time.monotonic() - last)
            if remaining > 0:
                stop.wait(remaining)
        self._local.last = time.monotonic()


class _YtDlpLogger:
    """Routes yt-dlp's messages to the voxrepro logger; errors are recorded by us instead."""

    def __init__(self, video_id: str) -> None:
        self.video_id = video_id

    def debug(self, message: str) -> None:
        log.debug("yt-dlp %s: %s", self.video_id, message)

    info = debug
    error = debug

    def warning(self, message: str) -> None:
        harmless = any(text in message for text in _HARMLESS_WARNINGS)
        log.log(
            logging.DEBUG if harmless else logging.INFO, "yt-dlp %s: %s", self.video_id, message
        )


@functools.lru_cache(maxsize=1)
def find_ffmpeg() -> str | None:
    """ffmpeg for yt-dlp's merges: the one on PATH, else imageio-ffmpeg's static binary."""
    on_path = shutil.which("ffmpeg")
    if on_path:
        return on_path
    try:
        import imageio_ffmpeg

        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except (ImportError, RuntimeError, OSError) as error:
        log.warning("no ffmpeg found (%s); formats that need merging will fail", error)
        return None


def build_ydl_options(
    options: DownloadOptions, workdir: Path, video_id: str, cookiefile: Path | None = None
) -> dict[str, Any]:
    """yt-dlp parameters for one attempt; the output name is built from the validated id only.

    ``cookiefile`` is the attempt's private copy of ``options.cookies``: yt-dlp rewrites its
    cookie file in place when it closes, which several workers must not do to the user's file.
    """
    # '%' starts a yt-dlp template field, so a literal '%' in the folder must be doubled.
    stem = str(workdir / video_id).replace("%", "%%")
    params: dict[str, Any] = {
        "outtmpl": {"default": f"{stem}.%(ext)s"},
        "format": options.format,
        "merge_output_format": "mp4/mkv",
        "quiet": True,
        "noprogress": True,
        "no_color": True,
        "logger": _YtDlpLogger(video_id),
        "noplaylist": True,
        # One retry authority (ours, with backoff and state); fragments still retry in place.
        "retries": 0,
        "extractor_retries": 0,
        "fragment_retries": 3,
        "skip_unavailable_fragments": True,
        "continuedl": True,
        "socket_timeout": options.socket_timeout,
        "cachedir": False,
        "updatetime": False,
    }
    ffmpeg = find_ffmpeg()
    if ffmpeg:
        params["ffmpeg_location"] = ffmpeg
    if options.proxy:
        params["proxy"] = options.proxy
    if cookiefile is not None:
        params["cookiefile"] = str(cookiefile)
    return params
