"""A process's share of the CPU: how many threads each of several worker processes may use, and
capping every thread pool of a process to that (OpenCV, PyTorch, FFmpeg's decoder through its
caller, and the BLAS/OpenMP libraries). Used by the pipeline's and recrop's worker processes.
"""

from __future__ import annotations

import os
import sys


def available_cpus() -> int:
    """CPUs this process may run on (the affinity mask, which containers and taskset narrow)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def threads_per_worker(workers: int, cpus: int | None = None) -> int:
    """Threads each of ``workers`` processes may use so that together they fill the CPUs once."""
    return max(1, (cpus or available_cpus()) // max(1, workers))


#: Read by OpenMP, MKL and OpenBLAS when they load: covers the libraries loaded after the cap.
THREAD_ENV_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def limit_cpu_threads(threads: int) -> None:
    """Cap every CPU thread pool of this process: OpenCV's, PyTorch's, and the BLAS/OpenMP pools
    already loaded (through threadpoolctl) or loaded later (through the environment).

    The BLAS pools matter most: numpy, SciPy and OpenCV each load their own OpenBLAS, each
    starts one thread per core at import, and those threads spin after every call (matrix
    products such as the MFCCs'). On a 32-core host that was 93 extra threads per worker
    burning about 19 ms of CPU per frame, twice the pipeline's own work
    (``reports/bench/pipeline_h100_variants.json``, run9).
    """
    import cv2
    from threadpoolctl import threadpool_limits

    for variable in THREAD_ENV_VARIABLES:
        os.environ[variable] = str(threads)
    cv2.setNumThreads(threads)
    torch = sys.modules.get("torch")  # not imported for the embedded detectors without SyncNet
    if torch is not None:
        torch.set_num_threads(threads)
    threadpool_limits(limits=threads)  # kept for the life of the process


__all__ = ["THREAD_ENV_VARIABLES", "available_cpus", "limit_cpu_threads", "threads_per_worker"]
