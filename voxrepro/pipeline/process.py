"""Per-process setup of pipeline workers: a CPU thread budget and how threads wait on the GPU.

Several workers on one host each decode, convert, resize and crop. Left alone, every worker's
OpenCV, FFmpeg, PyTorch and BLAS pools size themselves to the whole machine (OpenCV's and
OpenBLAS's workers also spin while idle), so 14 workers on 16 cores run hundreds of threads that
fight for the cores.
Each worker gets ``cores // workers`` threads instead, and on CUDA its threads sleep while the
GPU works (:mod:`voxrepro.cuda_wait`) rather than spinning a core each. On a host with several
GPUs the workers are spread over them, round robin, so that no single GPU runs out of memory.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from voxrepro.cpu_budget import limit_cpu_threads, threads_per_worker
from voxrepro.cuda_wait import set_cuda_wait
from voxrepro.memory import keep_freed_memory
from voxrepro.pipeline.settings import PipelineSettings


def gpus_to_spread(settings: PipelineSettings, workers: int) -> list[str]:
    """GPU ids to spread ``workers`` processes over (round robin), or [] to leave them alone.

    Only for ``--device auto|cuda`` with several workers and several visible GPUs; a device
    named by index (``cuda:1``) is the user's choice and is kept. Counts GPUs through NVML
    (no CUDA context in the parent process).
    """
    if workers <= 1 or settings.device not in ("auto", "cuda"):
        return []
    import torch

    count = torch.cuda.device_count()
    if count <= 1:
        return []
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    ids = [i.strip() for i in visible.split(",") if i.strip()] if visible else []
    return ids[:count] if len(ids) >= count else [str(i) for i in range(count)]


#: Where the CUDA MPS control daemon listens by default (``nvidia-cuda-mps-control -d``).
DEFAULT_MPS_PIPE = "/tmp/nvidia-mps"


def mps_running() -> bool:
    """Whether a CUDA MPS control daemon is listening (its control pipe exists)."""
    pipe = os.environ.get("CUDA_MPS_PIPE_DIRECTORY", DEFAULT_MPS_PIPE)
    return os.path.exists(os.path.join(pipe, "control"))


def gpu_sharing_warning(settings: PipelineSettings, workers: int) -> str | None:
    """A warning when several workers will share a GPU without MPS (they then time-slice it,
    one process's kernels at a time), else None. Workers spread one per GPU share nothing."""
    if workers <= 1 or settings.device == "cpu" or mps_running():
        return None
    import torch

    if not torch.cuda.is_available():
        return None
    gpus = max(1, len(gpus_to_spread(settings, workers)))
    per_gpu = -(-workers // gpus)
    if per_gpu <= 1:
        return None
    where = "the GPU" if gpus == 1 else f"each of the {gpus} GPUs"
    return (
        f"{per_gpu} workers share {where} without the CUDA MPS daemon, so they take turns on "
        "it; start it with `nvidia-cuda-mps-control -d` (as the user that runs the pipeline)"
    )


def claim_gpu(counter: Any, gpu_ids: list[str]) -> str | None:
    """Give this worker process the next GPU (round robin) by narrowing CUDA_VISIBLE_DEVICES;
    it must run before the process's first CUDA call. ``counter``: a shared ``multiprocessing``
    integer, one per pool."""
    if not gpu_ids or counter is None:
        return None
    with counter.get_lock():
        turn = counter.value
        counter.value += 1
    chosen = gpu_ids[turn % len(gpu_ids)]
    os.environ["CUDA_VISIBLE_DEVICES"] = chosen
    return chosen


def prepare_process(
    settings: PipelineSettings,
    threads: int | None = None,
    counter: Any = None,
    gpu_ids: list[str] | None = None,
    keep_memory: bool = True,
) -> bool:
    """Set up this process for pipeline work; call before its first CUDA call.

    Args:
        settings: the run's settings (device and CUDA wait policy).
        threads: CPU threads for this process, or None to leave the pools at their defaults
            (one process using the whole machine).
        counter, gpu_ids: spread worker processes over these GPUs (``gpus_to_spread``).
        keep_memory: keep freed frame memory in the process (``voxrepro.memory``); off only
            to measure what it saves.

    Returns:
        Whether the CUDA wait policy was applied (False on machines without a CUDA driver).
    """
    claim_gpu(counter, gpu_ids or [])
    if keep_memory:
        keep_freed_memory()
    if threads is not None:
        limit_cpu_threads(threads)
    index = settings.cuda_index
    return index is not None and set_cuda_wait(settings.cuda_wait, index)


def settings_for_workers(settings: PipelineSettings, workers: int) -> PipelineSettings:
    """The settings each of ``workers`` processes runs with: automatic decode threads resolved
    to the worker's share of the CPUs (recorded in ``run.json``)."""
    if workers <= 1 or settings.decode_threads:
        return settings
    return dataclasses.replace(settings, decode_threads=threads_per_worker(workers))


__all__ = [
    "claim_gpu",
    "gpu_sharing_warning",
    "gpus_to_spread",
    "mps_running",
    "prepare_process",
    "settings_for_workers",
]
