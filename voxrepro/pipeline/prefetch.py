"""Run an iterator ahead on a background thread, so producing items overlaps consuming them.

The pipeline decodes (and converts) frames on this thread while the caller cuts shots, crops
and encodes: FFmpeg, NVDEC waits and OpenCV release the GIL, so the two really run together,
and a decoder that waits on the GPU no longer stalls the whole worker.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")
_DONE = object()


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


class Prefetcher(Generic[T]):
    """Iterate ``make()`` on a daemon thread, at most ``depth`` items ahead.

    Exceptions raised by the producer are re-raised by ``__next__`` in the consumer's thread.
    ``close()`` (or leaving a ``with`` block) stops the producer early and waits for it.
    """

    def __init__(self, make: Callable[[], Iterator[T]], depth: int = 8) -> None:
        if depth < 1:
            raise ValueError(f"depth must be >= 1, got {depth}")
        self._queue: queue.Queue[object] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._produce, args=(make,), name="voxrepro-prefetch", daemon=True
        )
        self._thread.start()

    def _put(self, item: object) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _produce(self, make: Callable[[], Iterator[T]]) -> None:
        try:
            iterator = make()
            try:
                for item in iterator:
                    if not self._put(item):
                        return
            finally:
                close = getattr(iterator, "close", None)
                if close is not None:
                    close()  # the producer's own cleanup (files) runs on its thread
        except BaseException as error:  # handed to the consumer, never lost
            self._put(_Failure(error))
            return
        self._put(_DONE)

    def __iter__(self) -> Prefetcher[T]:
        return self

    def __next__(self) -> T:
        item = self._queue.get()
        if item is _DONE:
            self._queue.put(_DONE)  # stay exhausted
            raise StopIteration
        if isinstance(item, _Failure):
            self._queue.put(item)
            raise item.error
        return item  # type: ignore[return-value]

    def close(self) -> None:
        self._stop.set()
        self._thread.join()

    def __enter__(self) -> Prefetcher[T]:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


__all__ = ["Prefetcher"]
