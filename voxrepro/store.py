"""SQLite state of a download run: one row per video, one row per attempt.

The database lives in the output folder (``<out>/download_state.sqlite3``) and is the one source
of truth for resume and for statistics: a rerun skips videos already ``done``, skips permanent
failures unless asked to retry them, and the audit counts causes from it. Several worker threads
write through one ``DownloadStore``; a lock serialises them on one connection, and WAL mode plus a
busy timeout let a second process (say, ``voxrepro compare`` reading while a download runs) in.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import Any

from voxrepro.errors import InvalidInputError
from voxrepro.failures import FailureClass, FailureReason
from voxrepro.types import Pathlike, Seconds

STATE_FILENAME = "download_state.sqlite3"
SCHEMA_VERSION = 1
_BUSY_TIMEOUT_MS = 30_000


class VideoStatus(StrEnum):
    """Where one video stands."""

    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True)
class MediaInfo:
    """What a probe of a downloaded file says (pixels, frames per second, seconds)."""

    width: int | None = None
    height: int | None = None
    fps: float | None = None
    duration: Seconds | None = None


@dataclass(frozen=True)
class VideoState:
    """One video's row.

    Attributes:
        video_id: the YouTube id (validated before it reached the store).
        status: pending / done / failed.
        failure_class: permanent or transient when failed, else None.
        reason: a ``FailureReason`` value when failed, else None.
        message: the last error message, with the video id replaced by ``<id>``.
        attempts: download attempts over all runs.
        path: the downloaded file (absolute) when done.
        width, height: frame size in pixels of the downloaded file.
        fps: its average frame rate (frames per second).
        duration: its duration in seconds.
        created_at, updated_at: Unix times (seconds).
    """

    video_id: str
    status: VideoStatus
    failure_class: FailureClass | None = None
    reason: str | None = None
    message: str | None = None
    attempts: int = 0
    path: str | None = None
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    duration: Seconds | None = None
    created_at: float | None = None
    updated_at: float | None = None


@dataclass(frozen=True)
class AttemptRecord:
    """One download attempt (a row of the ``attempts`` table)."""

    video_id: str
    attempt: int
    started_at: float
    finished_at: float | None
    status: VideoStatus
    reason: str | None
    message: str | None


_SCHEMA = """
CREATE TABLE IF NOT EXISTS videos (
    video_id      TEXT PRIMARY KEY,
    status        TEXT NOT NULL,
    failure_class TEXT,
    reason        TEXT,
    message       TEXT,
    attempts      INTEGER NOT NULL DEFAULT 0,
    path          TEXT,
    width         INTEGER,
    height        INTEGER,
    fps           REAL,
    duration      REAL,
    created_at    REAL NOT NULL,
    updated_at    REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS attempts (
    video_id    TEXT NOT NULL,
    attempt     INTEGER NOT NULL,
    started_at  REAL NOT NULL,
    finished_at REAL,
    status      TEXT NOT NULL,
    reason      TEXT,
    message     TEXT,
    PRIMARY KEY (video_id, attempt)
);
CREATE INDEX IF NOT EXISTS videos_status ON videos(status);
"""

_VIDEO_COLUMNS = (
    "video_id, status, failure_class, reason, message, attempts, path, width, height, fps, "
    "duration, created_at, updated_at"
)


def state_path(out_dir: Pathlike) -> Path:
    """Where the download state of ``out_dir`` lives."""
    return Path(out_dir) / STATE_FILENAME


class DownloadStore:
    """Thread-safe read/write access to one state database (created if missing)."""

    def __init__(self, db_path: Pathlike) -> None:
        self.path = Path(db_path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        try:
            self._conn = sqlite3.connect(
                self.path, timeout=_BUSY_TIMEOUT_MS / 1000, check_same_thread=False
            )
            self._conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = NORMAL")
            version = self._conn.execute("PRAGMA user_version").fetchone()[0]
            if version not in (0, SCHEMA_VERSION):
                raise InvalidInputError(
                    f"{self.path}: download state has schema version {version}, this voxrepro "
                    f"reads version {SCHEMA_VERSION}; use another --out folder"
                )
            self._conn.executescript(_SCHEMA)
            self._conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            self._conn.commit()
        except sqlite3.DatabaseError as error:
            raise InvalidInputError(
                f"{self.path}: not a usable state database ({error})"
            ) from error

    # -- lifecycle ---------------------------------------------------------------------------
    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> DownloadStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _write(self, sql: str, params: tuple[Any, ...]) -> None:
        with self._lock, self._conn:
            self._conn.execute(sql, params)

    # -- reads -------------------------------------------------------------------------------
    def get(self, video_id: str) -> VideoState | None:
        with self._lock:
            row = self._conn.execute(
                f"SELECT {_VIDEO_COLUMNS} FROM videos WHERE video_id = ?", (video_id,)
            ).fetchone()
        return None if row is None else _row_to_state(row)

    def all_states(self) -> dict[str, VideoState]:
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {_VIDEO_COLUMNS} FROM videos ORDER BY video_id"
            ).fetchall()
        return {row[0]: _row_to_state(row) for row in rows}

    def attempts_of(self, video_id: str) -> list[AttemptRecord]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT video_id, attempt, started_at, finished_at, status, reason, message "
                "FROM attempts WHERE video_id = ? ORDER BY attempt",
                (video_id,),
            ).fetchall()
        return [AttemptRecord(r[0], r[1], r[2], r[3], VideoStatus(r[4]), r[5], r[6]) for r in rows]

    # -- writes ------------------------------------------------------------------------------
    def add_pending(self, video_id: str) -> None:
        """Insert ``video_id`` as pending unless it already has a row."""
        now = time.time()
        self._write(
            "INSERT OR IGNORE INTO videos (video_id, status, attempts, created_at, updated_at) "
            "VALUES (?, ?, 0, ?, ?)",
            (video_id, VideoStatus.PENDING.value, now, now),
        )

    def start_attempt(self, video_id: str) -> int:
        """Count a new attempt; return its number (1 for the very first, over all runs)."""
        now = time.time()
        with self._lock, self._conn:
            self._conn.execute(
                "INSERT OR IGNORE INTO videos (video_id, status, attempts, created_at, updated_at) "
                "VALUES (?, ?, 0, ?, ?)",
                (video_id, VideoStatus.PENDING.value, now, now),
            )
            self._conn.execute(
                "UPDATE videos SET attempts = attempts + 1, updated_at = ? WHERE video_id = ?",
                (now, video_id),
            )
            attempt = self._conn.execute(
                "SELECT attempts FROM videos WHERE video_id = ?", (video_id,)
            ).fetchone()[0]
            self._conn.execute(
                "INSERT OR REPLACE INTO attempts (video_id, attempt, started_at, status) "
                "VALUES (?, ?, ?, ?)",
                (video_id, attempt, now, VideoStatus.PENDING.value),
            )
        return int(attempt)

    def mark_done(self, video_id: str, path: Pathlike, media: MediaInfo) -> None:
        """Record a complete download at ``path`` (its probe in ``media``)."""
        now = time.time()
        with self._lock, self._conn:
            self._conn.execute(
                "INSERT OR IGNORE INTO videos (video_id, status, attempts, created_at, updated_at) "
                "VALUES (?, ?, 0, ?, ?)",
                (video_id, VideoStatus.PENDING.value, now, now),
            )
            self._conn.execute(
                "UPDATE videos SET status = ?, failure_class = NULL, reason = NULL, message = NULL,"
                " path = ?, width = ?, height = ?, fps = ?, duration = ?, updated_at = ? "
                "WHERE video_id = ?",
                (
                    VideoStatus.DONE.value,
                    str(Path(path).resolve()),
                    media.width,
                    media.height,
                    media.fps,
                    media.duration,
                    now,
                    video_id,
                ),
            )
            self._finish_attempt(video_id, VideoStatus.DONE, None, None, now)

    def mark_failed(
        self,
        video_id: str,
        failure_class: FailureClass,
        reason: FailureReason | str,
        message: str,
    ) -> None:
        """Record that the latest attempt failed (message already normalised, id removed)."""
        now = time.time()
        with self._lock, self._conn:
            self._conn.execute(
                "INSERT OR IGNORE INTO videos (video_id, status, attempts, created_at, updated_at) "
                "VALUES (?, ?, 0, ?, ?)",
                (video_id, VideoStatus.PENDING.value, now, now),
            )
            self._conn.execute(
                "UPDATE videos SET status = ?, failure_class = ?, reason = ?, message = ?, "
                "path = NULL, width = NULL, height = NULL, fps = NULL, duration = NULL, "
                "updated_at = ? WHERE video_id = ?",
                (
                    VideoStatus.FAILED.value,
                    FailureClass(failure_class).value,
                    str(reason),
                    message,
                    now,
                    video_id,
                ),
            )
            self._finish_attempt(video_id, VideoStatus.FAILED, str(reason), message, now)

    def _finish_attempt(
        self,
        video_id: str,
        status: VideoStatus,
        reason: str | None,
        message: str | None,
        now: float,
    ) -> None:
        # Caller holds the lock and the transaction. Marks the latest open attempt, if any.
        self._conn.execute(
            "UPDATE attempts SET finished_at = ?, status = ?, reason = ?, message = ? "
            "WHERE video_id = ? AND attempt = (SELECT attempts FROM videos WHERE video_id = ?) "
            "AND finished_at IS NULL",
            (now, status.value, reason, message, video_id, video_id),
        )


def _row_to_state(row: tuple[Any, ...]) -> VideoState:
    return VideoState(
        video_id=row[0],
        status=VideoStatus(row[1]),
        failure_class=FailureClass(row[2]) if row[2] else None,
        reason=row[3],
        message=row[4],
        attempts=int(row[5]),
        path=row[6],
        width=row[7],
        height=row[8],
        fps=row[9],
        duration=row[10],
        created_at=row[11],
        updated_at=row[12],
    )


def read_video_states(db_path: Pathlike) -> dict[str, VideoState]:
    """Read every video's state from a state database, without writing to it.

    Args:
        db_path: the ``download_state.sqlite3`` file, or the download output folder holding it.

    Returns:
        ``{video_id: VideoState}``, sorted by id.

    Raises:
        InvalidInputError: the file does not exist or is not a state database.
    """
    path = Path(db_path)
    if path.is_dir():
        path = path / STATE_FILENAME
    if not path.is_file():
        raise InvalidInputError(f"{path}: no download state database here")
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
            rows = conn.execute(f"SELECT {_VIDEO_COLUMNS} FROM videos ORDER BY video_id").fetchall()
        finally:
            conn.close()
    except sqlite3.DatabaseError as error:
        raise InvalidInputError(f"{path}: not a download state database ({error})") from error
    return {row[0]: _row_to_state(row) for row in rows}
