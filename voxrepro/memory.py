"""Keep freed frame memory in a worker process instead of handing it back to the kernel.

A 720p BGR frame is 2.7 MB. glibc serves blocks that large with ``mmap``, trims freed memory
off the top of its heap, and unmaps the arenas of other threads once they are empty, so the pages
of each new shot's frames are faulted in and zeroed again by the kernel. On the 2-core dev VM
(``scripts/profile_worker_host.py`` -> ``reports/bench/worker_memory.json``) a worker took
430-590 page faults and 2.6-3.2 ms of system CPU a frame by default, against 3.7 ms of user
CPU; with the settings below, 170-270 faults and 0.3-1.3 ms (the rest are blocks above 32 MiB,
such as a track's crops). On the H100 hosts no change in throughput was
measurable (``reports/bench/pipeline_h100_variants.json``, runs 13 and 14).

The price is memory: a worker keeps its peak heap (the largest shot it has held, bounded by
``--shot-buffer-mb``) for its lifetime, which is what a dedicated worker process wants anyway.
Applied by ``pipeline.process.prepare_process``: in each worker process, or in the one process
of a ``--workers 1`` run. glibc only (elsewhere a no-op).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys

logger = logging.getLogger("voxrepro")

# mallopt(3) parameters (glibc <malloc.h>).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8

#: Blocks below this come from the heap; glibc refuses more than 32 MiB (HEAP_MAX_SIZE / 2).
MMAP_THRESHOLD_BYTES = 32 * 2**20
#: Free memory at the top of the heap kept rather than trimmed (mallopt takes an int).
TRIM_THRESHOLD_BYTES = 2**31 - 1


def keep_freed_memory() -> bool:
    """Tune glibc's malloc for a long-lived worker; True when every setting was accepted.

    * one arena: frames allocated on the decoding thread and freed on the main one go back to a
      heap that is never unmapped (per-thread arenas are unmapped when empty);
    * a fixed mmap threshold of 32 MiB: frames come from the heap, not from fresh mappings;
    * no trimming: freed frames stay mapped, ready for the next shot.
    """
    if not sys.platform.startswith("linux"):
        return False
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and others have no mallopt
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    accepted = [
        mallopt(_M_ARENA_MAX, 1),
        mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES),
        mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES),
    ]
    if not all(accepted):
        logger.debug("mallopt refused a setting: %s", accepted)
    return all(accepted)


__all__ = ["MMAP_THRESHOLD_BYTES", "keep_freed_memory"]
