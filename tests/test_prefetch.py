"""The background iterator keeps order, bounds how far it runs ahead, and hands errors over."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from voxrepro.pipeline.prefetch import Prefetcher


def test_items_arrive_in_order_and_then_stop() -> None:
    with Prefetcher(lambda: iter(range(100)), depth=3) as items:
        assert list(items) == list(range(100))
        with pytest.raises(StopIteration):
            next(items)


def test_producer_runs_on_another_thread_at_most_depth_ahead() -> None:
    produced: list[int] = []
    threads: set[str] = set()

    def make() -> Iterator[int]:
        for i in range(50):
            threads.add(threading.current_thread().name)
            produced.append(i)
            yield i

    with Prefetcher(make, depth=4) as items:
        assert next(items) == 0
        time.sleep(0.3)  # let the producer fill the queue
        # one item taken + 4 queued + at most one blocked in put
        assert 5 <= len(produced) <= 6
    assert threads == {"voxrepro-prefetch"}


def test_producer_error_is_raised_in_the_consumer_after_earlier_items() -> None:
    def make() -> Iterator[int]:
        yield 1
        yield 2
        raise OSError("disk gone")

    items = Prefetcher(make)
    assert next(items) == 1 and next(items) == 2
    with pytest.raises(OSError, match="disk gone"):
        next(items)
    items.close()


def test_close_stops_an_endless_producer_and_runs_its_cleanup() -> None:
    cleaned = threading.Event()

    def endless() -> Iterator[int]:
        try:
            i = 0
            while True:
                yield i
                i += 1
        finally:
            cleaned.set()

    items = Prefetcher(endless, depth=2)
    assert next(items) == 0
    items.close()
    assert cleaned.is_set()


def test_depth_must_be_positive() -> None:
    with pytest.raises(ValueError, match="depth"):
        Prefetcher(lambda: iter([]), depth=0)
