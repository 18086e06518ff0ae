"""The SQLite download state: rows, attempts, resume semantics, threads, read-only reader."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from voxrepro.errors import InvalidInputError
from voxrepro.failures import FailureClass, FailureReason
from voxrepro.store import (
    STATE_FILENAME,
    DownloadStore,
    MediaInfo,
    VideoStatus,
    read_video_states,
    state_path,
)

VID = "abcdefghijk"


def test_pending_then_attempts_then_done(tmp_path: Path) -> None:
    with DownloadStore(state_path(tmp_path)) as store:
        store.add_pending(VID)
        store.add_pending(VID)  # idempotent
        state = store.get(VID)
        assert state is not None
        assert state.status is VideoStatus.PENDING
        assert state.attempts == 0

        assert store.start_attempt(VID) == 1
        store.mark_failed(VID, FailureClass.TRANSIENT, FailureReason.RATE_LIMITED, "HTTP 429")
        assert store.start_attempt(VID) == 2
        media_file = tmp_path / f"{VID}.mp4"
        media_file.write_bytes(b"x")
        store.mark_done(VID, media_file, MediaInfo(width=160, height=120, fps=25.0, duration=1.0))

        state = store.get(VID)
        assert state is not None
        assert state.status is VideoStatus.DONE
        assert state.attempts == 2
        assert state.failure_class is None and state.reason is None and state.message is None
        assert Path(state.path or "") == media_file.resolve()
        assert (state.width, state.height, state.fps, state.duration) == (160, 120, 25.0, 1.0)

        attempts = store.attempts_of(VID)
        assert [a.attempt for a in attempts] == [1, 2]
        assert [a.status for a in attempts] == [VideoStatus.FAILED, VideoStatus.DONE]
        assert attempts[0].reason == "rate_limited"
        assert all(a.finished_at is not None for a in attempts)


def test_failure_after_done_clears_media_fields(tmp_path: Path) -> None:
    with DownloadStore(tmp_path / "s.sqlite3") as store:
        store.start_attempt(VID)
        store.mark_done(VID, tmp_path / "a.mp4", MediaInfo(10, 20, 25.0, 3.0))
        store.start_attempt(VID)
        store.mark_failed(VID, FailureClass.PERMANENT, FailureReason.NOT_FOUND, "HTTP Error 404")
        state = store.get(VID)
    assert state is not None
    assert state.status is VideoStatus.FAILED
    assert state.failure_class is FailureClass.PERMANENT
    assert state.reason == FailureReason.NOT_FOUND.value
    assert state.path is None and state.width is None and state.duration is None


def test_state_survives_reopen_and_reader_sees_it(tmp_path: Path) -> None:
    with DownloadStore(state_path(tmp_path)) as store:
        store.start_attempt(VID)
        store.mark_failed(VID, FailureClass.PERMANENT, FailureReason.PRIVATE, "Private video")
        store.add_pending("bbbbbbbbbbb")
    with DownloadStore(state_path(tmp_path)) as store:
        assert store.start_attempt(VID) == 2  # attempts count over runs
    states = read_video_states(tmp_path)  # a folder works too
    assert list(states) == ["abcdefghijk", "bbbbbbbbbbb"]
    assert states[VID].attempts == 2
    assert states[VID].reason == "private"
    assert states["bbbbbbbbbbb"].status is VideoStatus.PENDING
    assert read_video_states(tmp_path / STATE_FILENAME) == states


def test_reader_never_creates_a_database(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="no download state database"):
        read_video_states(tmp_path)
    assert not (tmp_path / STATE_FILENAME).exists()


def test_garbage_file_gives_one_line_error_naming_it(tmp_path: Path) -> None:
    bad = tmp_path / STATE_FILENAME
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(InvalidInputError) as info:
        read_video_states(bad)
    assert str(bad) in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(InvalidInputError, match="not a usable state database"):
        DownloadStore(bad)


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    db = tmp_path / STATE_FILENAME
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(InvalidInputError, match="schema version 99"):
        DownloadStore(db)


def test_many_threads_write_without_losing_counts(tmp_path: Path) -> None:
    ids = [f"video{n:06d}" for n in range(8)]
    with DownloadStore(state_path(tmp_path)) as store:

        def work(video_id: str) -> None:
            for _ in range(25):
                store.start_attempt(video_id)
                store.mark_failed(video_id, FailureClass.TRANSIENT, FailureReason.TIMEOUT, "t")
            store.start_attempt(video_id)
            store.mark_done(video_id, tmp_path / f"{video_id}.mp4", MediaInfo(1, 1, 25.0, 1.0))

        threads = [threading.Thread(target=work, args=(v,)) for v in ids]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        states = store.all_states()
    assert set(states) == set(ids)
    assert all(s.attempts == 26 and s.status is VideoStatus.DONE for s in states.values())
