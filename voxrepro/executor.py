"""Interchangeable executors: run a pure per-item function serially or in a process pool.

Every worker function is a pure function of its item (source file, segments, settings) that
returns a result record and never raises for a bad item; the executor only distributes. Results
are yielded as they finish, so callers can persist state and drive progress bars.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

ItemT = TypeVar("ItemT")
ResultT = TypeVar("ResultT")


def run_serial(fn: Callable[[ItemT], ResultT], items: Iterable[ItemT]) -> Iterator[ResultT]:
    for item in items:
        yield fn(item)


def run_processes(
    fn: Callable[[ItemT], ResultT],
    items: Iterable[ItemT],
    workers: int,
    initializer: Callable[..., object] | None = None,
    initargs: tuple[Any, ...] = (),
) -> Iterator[ResultT]:
    """Run ``fn`` over ``items`` in ``workers`` processes, yielding results in finish order.

    Uses the ``spawn`` start method: torch and PyAV hold threads that do not survive ``fork``.
    ``initializer(*initargs)`` runs once in each worker process before its first item.
    ``items`` is pulled lazily, at most ``IN_FLIGHT_PER_WORKER * workers`` ahead of the results,
    so a million-item stream never sits in memory (or in the pool's queue) at once.
    """
    context = mp.get_context("spawn")
    with cf.ProcessPoolExecutor(workers, context, initializer, initargs) as pool:
        yield from _bounded(pool, fn, items, IN_FLIGHT_PER_WORKER * workers)


#: Items submitted per worker before waiting for a result: enough to keep every worker busy.
IN_FLIGHT_PER_WORKER = 2


def _bounded(
    pool: cf.Executor, fn: Callable[[ItemT], ResultT], items: Iterable[ItemT], limit: int
) -> Iterator[ResultT]:
    pending: set[cf.Future[ResultT]] = set()
    for item in items:
        pending.add(pool.submit(fn, item))
        if len(pending) >= limit:
            done, pending = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
            for future in done:
                yield future.result()
    for future in cf.as_completed(pending):
        yield future.result()


def run_parallel(
    fn: Callable[[ItemT], ResultT],
    items: Iterable[ItemT],
    workers: int = 1,
    initializer: Callable[..., object] | None = None,
    initargs: tuple[Any, ...] = (),
) -> Iterator[ResultT]:
    """Serial when ``workers <= 1`` (``initializer`` then runs here), else a process pool."""
    if workers <= 1:
        if initializer is not None:
            initializer(*initargs)
        return run_serial(fn, items)
    return run_processes(fn, items, workers, initializer, initargs)
