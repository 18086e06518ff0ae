"""Segment splitter (spec §9 steps 2-5) on hand-worked frame-wise confidence series."""

from __future__ import annotations

import numpy as np
import pytest

from voxrepro.errors import InvalidInputError
from voxrepro.split import (
    ABSENT,
    build_series,
    find_runs,
    merge_runs,
    split_track,
    trim_span,
)
from voxrepro.syncnet.score import framewise_confidence

HIGH, LOW = 5.0, 0.0


def track_with_runs(first: int, n: int, runs: list[tuple[int, int]]) -> tuple[np.ndarray, ...]:
    """Track covering global frames first..first+n-1, HIGH on the inclusive global runs."""
    frames = np.arange(first, first + n)
    conf = np.full(n, LOW)
    for start, end in runs:
        conf[start - first : end - first + 1] = HIGH
    return frames, conf


def test_threshold_is_strict() -> None:
    series = np.array([2.1, 2.1000001, 2.1000001, 2.1, 3.0, -1.0, 2.2])
    assert find_runs(series) == [(1, 2), (4, 4), (6, 6)]
    assert find_runs(np.full(4, 2.1)) == []


def test_runs_are_inclusive_and_reach_the_ends() -> None:
    assert find_runs(np.array([3.0, 3.0, 0.0, 3.0])) == [(0, 1), (3, 3)]
    assert find_runs(np.array([], dtype=float)) == []


@pytest.mark.parametrize(("gap", "merged"), [(14, True), (15, True), (16, False)])
def test_runs_merge_when_next_start_minus_end_is_at_most_15(gap: int, merged: bool) -> None:
    # Two runs of 80 frames; `gap` = next.start - current.end (gap - 1 sub-threshold frames).
    first_run = (100, 179)
    second_run = (179 + gap, 179 + gap + 79)
    frames, conf = track_with_runs(50, 400, [first_run, second_run])
    spans = split_track(frames, conf)
    if merged:
        assert spans == [(100 + 5, second_run[1] - 6)]
    else:
        assert spans == [(105, 179 - 6), (second_run[0] + 5, second_run[1] - 6)]


def test_short_runs_bridged_into_one_long_enough_segment() -> None:
    # Neither run is long enough alone (end - start = 40 and 30), merged they are: 40+15+30.
    runs = [(200, 240), (255, 285)]
    assert merge_runs(runs) == [(200, 285)]
    frames, conf = track_with_runs(150, 200, runs)
    assert split_track(frames, conf) == [(205, 279)]


@pytest.mark.parametrize(("length", "kept"), [(74, False), (75, True), (76, True)])
def test_run_kept_when_end_minus_start_at_least_75(length: int, kept: bool) -> None:
    start = 30
    frames, conf = track_with_runs(0, 200, [(start, start + length)])
    spans = split_track(frames, conf)
    if kept:
        assert spans == [(start + 5, start + length - 6)]
        first, last = spans[0]
        assert last - first + 1 == length - 10  # 65 frames for the shortest kept run
    else:
        assert spans == []


def test_trim_matches_seed_half_open_range() -> None:
    # SEED writes frames range(s + 5, e - 5); our inclusive span must list exactly those.
    s, e = 1000, 1100
    first, last = trim_span((s, e))
    assert list(range(first, last + 1)) == list(range(s + 5, e - 5))
    assert trim_span((s, e), trim=0) == (s, e - 1)


def test_series_is_minus_one_outside_the_track() -> None:
    frames = np.arange(10, 20)
    conf = np.linspace(3, 4, 10)
    series = build_series(frames, conf, n_video_frames=30)
    assert series.shape == (30,)
    assert np.all(series[:10] == ABSENT) and np.all(series[20:] == ABSENT)
    np.testing.assert_array_equal(series[10:20], conf)
    assert build_series(frames, conf).shape == (20,)


def test_segment_ends_where_the_track_ends() -> None:
    # Confident through the track's last frame: the run stops at the track end (-1 after it).
    frames, conf = track_with_runs(500, 120, [(520, 619)])
    assert split_track(frames, conf) == [(525, 619 - 6)]


def test_several_segments_in_one_track_are_in_order() -> None:
    runs = [(0, 90), (120, 130), (200, 300)]  # the middle one is too short and too far
    frames, conf = track_with_runs(0, 400, runs)
    assert split_track(frames, conf) == [(5, 84), (205, 294)]


def test_thresholds_are_parameters() -> None:
    frames, conf = track_with_runs(0, 100, [(10, 30), (40, 60)])
    assert split_track(frames, conf) == []
    assert split_track(frames, conf, max_gap=10, min_length=50, trim=2) == [(12, 57)]
    assert split_track(frames, conf, min_conf=5.0) == []


def test_splitting_the_syncnet_framewise_series() -> None:
    # 300-frame track starting at global frame 1000; windows 100..199 are well synced.
    n_frames = 300
    dists = np.full((n_frames - 5, 31), 8.0, dtype=np.float32)
    dists[:, 12] = 7.0  # best column: mean 7, median 8 -> fconf = 1 (below 2.1)
    dists[100:200, 12] = 4.0  # fconf = 8 - 4 = 4 (above 2.1)
    conf = framewise_confidence(dists, n_frames)
    spans = split_track(np.arange(1000, 1000 + n_frames), conf)
    # Window i sits on track frame i+3: the run is track frames 103..202 -> global 1103..1202.
    assert spans == [(1103 + 5, 1202 - 6)]


@pytest.mark.parametrize(
    ("frames", "conf", "message"),
    [
        (np.arange(5), np.zeros(4), "one length"),
        (np.array([3, 4, 6]), np.zeros(3), "contiguous"),
        (np.array([4, 3, 2]), np.zeros(3), "contiguous"),
        (np.array([-1, 0, 1]), np.zeros(3), "non-negative"),
    ],
)
def test_bad_tracks_are_refused(frames: np.ndarray, conf: np.ndarray, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        split_track(frames, conf)


def test_series_too_short_for_track_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="cannot hold a track ending at frame 19"):
        build_series(np.arange(10, 20), np.zeros(10), n_video_frames=15)


def test_empty_track_gives_no_segments() -> None:
    assert split_track(np.array([], dtype=np.int64), np.array([])) == []
