"""Recrop at scale: jobs leave as soon as a source is complete, and executors pull lazily."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from voxrepro.executor import IN_FLIGHT_PER_WORKER, run_parallel
from voxrepro.recrop import count_by_reference, group_by_source, stream_by_source
from voxrepro.recrop_plan import RecropSettings
from voxrepro.segment import Segment, make_segment


def _segment(identity: str, reference: str, utterance: str) -> Segment:
    return make_segment(identity, reference, utterance, range(3), [[0.1, 0.1, 0.5, 0.5]] * 3)


# A Vox tree's order: references contiguous per identity; "shared0001" listed under two ids.
TREE = [
    ("id1", "aaaaaaaaaaa", "00001"),
    ("id1", "aaaaaaaaaaa", "00002"),
    ("id1", "shared00001", "00001"),
    ("id1", "bbbbbbbbbbb", "00001"),
    ("id2", "ccccccccccc", "00001"),
    ("id2", "shared00001", "00001"),
    ("id2", "shared00001", "00002"),
]


def _settings(tmp_path: Path) -> RecropSettings:
    return RecropSettings(videos=tmp_path, out=tmp_path / "out")


def test_streamed_jobs_equal_grouped_jobs(tmp_path: Path) -> None:
    segments = [_segment(*row) for row in TREE]
    counts = count_by_reference(segments)
    assert counts == {"aaaaaaaaaaa": 2, "shared00001": 3, "bbbbbbbbbbb": 1, "ccccccccccc": 1}
    streamed = {
        job.reference: [s.key for s in job.segments]
        for job in stream_by_source(segments, counts, _settings(tmp_path))
    }
    grouped = {
        job.reference: [s.key for s in job.segments]
        for job in group_by_source(segments, _settings(tmp_path))
    }
    assert streamed == grouped
    assert len(streamed["shared00001"]) == 3  # one job: the shared source is decoded once


def test_a_job_leaves_as_soon_as_its_source_is_complete(tmp_path: Path) -> None:
    segments = [_segment(*row) for row in TREE]
    counts = count_by_reference(segments)
    read: list[int] = []

    def reading() -> Iterator[Segment]:
        for index, segment in enumerate(segments):
            read.append(index)
            yield segment

    jobs = stream_by_source(reading(), counts, _settings(tmp_path))
    first = next(jobs)
    assert first.reference == "aaaaaaaaaaa" and len(read) == 2  # nothing read past its end
    second = next(jobs)
    assert second.reference == "bbbbbbbbbbb" and len(read) == 4  # shared0001 still open
    rest = [job.reference for job in jobs]
    assert rest == ["ccccccccccc", "shared00001"]


def test_segments_beyond_the_counts_are_not_lost(tmp_path: Path) -> None:
    segments = [_segment(*row) for row in TREE]
    stale = {"aaaaaaaaaaa": 5}  # metadata grew between the passes
    jobs = list(stream_by_source(segments, stale, _settings(tmp_path)))
    assert sum(len(job.segments) for job in jobs) == len(segments)
    assert [len(j.segments) for j in jobs if j.reference == "aaaaaaaaaaa"] == [2]


def _square(value: int) -> int:
    return value * value


def _counting(pulled: list[int], n: int) -> Iterator[int]:
    for value in range(n):
        pulled.append(value)
        yield value


def test_process_pool_pulls_items_lazily() -> None:
    pulled: list[int] = []
    results = run_parallel(_square, _counting(pulled, 40), 2)
    first = next(results)
    assert first in {v * v for v in range(40)}
    assert len(pulled) <= IN_FLIGHT_PER_WORKER * 2 + 1  # not the whole stream up front
    assert sorted([first, *results]) == sorted(v * v for v in range(40))
    assert len(pulled) == 40
