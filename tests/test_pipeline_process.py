"""Per-worker process setup: thread budget, automatic decode threads, CUDA wait policy."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import pytest
import torch

from voxrepro.cpu_budget import THREAD_ENV_VARIABLES, limit_cpu_threads, threads_per_worker
from voxrepro.cuda_wait import CudaWait, get_cuda_wait, set_cuda_wait
from voxrepro.errors import InvalidInputError
from voxrepro.executor import run_parallel
from voxrepro.pipeline.process import prepare_process, settings_for_workers
from voxrepro.pipeline.settings import PipelineSettings


@pytest.mark.parametrize(
    ("workers", "cpus", "expected"),
    [(1, 16, 16), (14, 16, 1), (4, 16, 4), (3, 16, 5), (32, 16, 1), (0, 8, 8)],
)
def test_threads_per_worker_shares_the_cpus_once(workers: int, cpus: int, expected: int) -> None:
    assert threads_per_worker(workers, cpus) == expected


def test_automatic_decode_threads_resolve_to_the_workers_share() -> None:
    settings = PipelineSettings()
    assert settings_for_workers(settings, 1) is settings  # one worker: FFmpeg's own choice
    shared = settings_for_workers(settings, 2)
    assert shared.decode_threads == threads_per_worker(2)
    explicit = PipelineSettings(decode_threads=3)
    assert settings_for_workers(explicit, 8).decode_threads == 3


@pytest.fixture
def restore_threads(monkeypatch: pytest.MonkeyPatch):
    from threadpoolctl import ThreadpoolController

    cv2_before, torch_before = cv2.getNumThreads(), torch.get_num_threads()
    blas_before = ThreadpoolController().info()
    for variable in THREAD_ENV_VARIABLES:
        original = os.environ.get(variable)
        monkeypatch.setenv(variable, original or "")  # records it, to put back at teardown
        if original is None:
            monkeypatch.delenv(variable)
    yield
    cv2.setNumThreads(cv2_before)
    torch.set_num_threads(torch_before)
    controller = ThreadpoolController()
    for pool in blas_before:
        controller.select(filepath=pool["filepath"]).limit(limits=pool["num_threads"])


def test_limit_cpu_threads_caps_opencv_and_torch(restore_threads: None) -> None:
    limit_cpu_threads(1)
    assert cv2.getNumThreads() == 1
    assert torch.get_num_threads() == 1
    assert os.environ["OMP_NUM_THREADS"] == "1"


_BLAS_PROBE = """
import json, sys
import numpy  # loads numpy's OpenBLAS: one thread per core
from threadpoolctl import threadpool_info
from voxrepro.cpu_budget import limit_cpu_threads
before = {p["filepath"]: p["num_threads"] for p in threadpool_info()}
limit_cpu_threads(1)
import scipy.signal  # loads SciPy's own OpenBLAS after the cap
after = {p["filepath"]: p["num_threads"] for p in threadpool_info()}
print(json.dumps({"before": before, "after": after}))
"""


def test_limit_cpu_threads_caps_blas_pools_loaded_before_and_after(tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in THREAD_ENV_VARIABLES}
    probe = subprocess.run(
        [sys.executable, "-c", _BLAS_PROBE], capture_output=True, text=True, env=env, check=True
    )
    pools = json.loads(probe.stdout.strip().splitlines()[-1])
    loaded_later = set(pools["after"]) - set(pools["before"])
    assert pools["before"] and loaded_later, pools  # numpy's pool, then SciPy's
    if os.cpu_count() and os.cpu_count() > 1:
        assert max(pools["before"].values()) > 1  # uncapped, a pool sizes itself to the cores
    assert set(pools["after"].values()) == {1}, pools


def test_prepare_process_limits_threads_and_reports_cuda_policy(restore_threads: None) -> None:
    applied = prepare_process(PipelineSettings(device="cpu"), threads=1)
    assert applied is False  # a CPU device never touches the CUDA driver
    assert cv2.getNumThreads() == 1


@pytest.mark.parametrize("keep", [True, False])
def test_prepare_process_keeps_freed_memory_unless_told_not_to(
    keep: bool, monkeypatch: pytest.MonkeyPatch, restore_threads: None
) -> None:
    # mallopt cannot be undone in a process, so the call itself is recorded here; what it
    # does to page faults is tests/test_memory.py's subject.
    import voxrepro.pipeline.process as process

    calls: list[bool] = []
    monkeypatch.setattr(process, "keep_freed_memory", lambda: calls.append(True) or True)
    prepare_process(PipelineSettings(device="cpu"), threads=1, keep_memory=keep)
    assert calls == ([True] if keep else [])


def test_unknown_cuda_wait_is_refused_in_settings_and_module() -> None:
    with pytest.raises(InvalidInputError, match="--cuda-wait"):
        PipelineSettings(cuda_wait="sleepy")
    with pytest.raises(ValueError):
        set_cuda_wait("sleepy")


def test_run_parallel_runs_the_initializer_in_each_worker() -> None:
    # Two spawned workers: the initializer caps OpenCV there, and each item reads it back.
    results = list(run_parallel(_cv2_threads_after_init, ["a", "b"], 2, limit_cpu_threads, (1,)))
    assert results == [1, 1]


def _cv2_threads_after_init(_: str) -> int:
    return cv2.getNumThreads()


def test_run_parallel_serial_runs_the_initializer_here(restore_threads: None) -> None:
    assert list(run_parallel(_cv2_threads_after_init, ["x"], 1, limit_cpu_threads, (1,))) == [1]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU and driver")
def test_cuda_wait_policy_is_set_on_the_primary_context() -> None:
    assert set_cuda_wait(CudaWait.BLOCK) is True
    assert get_cuda_wait() == CudaWait.BLOCK
    # Still settable once PyTorch holds the context, and work still runs.
    x = torch.ones(1024, device="cuda")
    assert set_cuda_wait(CudaWait.SPIN) is True
    assert get_cuda_wait() == CudaWait.SPIN
    assert float((x * 2).sum().cpu()) == 2048.0
    assert set_cuda_wait(CudaWait.BLOCK) is True


def test_cuda_wait_without_a_driver_is_a_no_op() -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA driver")
    assert set_cuda_wait(CudaWait.BLOCK) is False
    assert get_cuda_wait() is None


def test_gpu_decoding_is_refused_up_front_without_cuda(tmp_path: Path) -> None:
    from voxrepro.pipeline.run import run_pipeline

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    video = tmp_path / "v.mp4"
    video.write_bytes(b"not read")
    with pytest.raises(InvalidInputError, match="--decode-device cuda"):
        run_pipeline([video], tmp_path / "out", PipelineSettings(decode_device="cuda"))
    assert not (tmp_path / "out").exists()


def test_settings_name_the_cuda_device_for_decoding() -> None:
    assert PipelineSettings(device="cuda:1", decode_device="cuda").decode_gpu == 1
    assert PipelineSettings(device="cuda:1").decode_gpu is None
    with pytest.raises(InvalidInputError, match="--device"):
        PipelineSettings(device="cpu", decode_device="cuda")
    with pytest.raises(InvalidInputError, match="--decode-device"):
        PipelineSettings(decode_device="nvdec")


def test_workers_claim_gpus_round_robin(monkeypatch: pytest.MonkeyPatch) -> None:
    import multiprocessing as mp

    from voxrepro.pipeline.process import claim_gpu

    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    counter = mp.get_context("spawn").Value("i", 0)
    claimed = []
    for _ in range(5):
        claimed.append(claim_gpu(counter, ["3", "5"]))
        assert os.environ["CUDA_VISIBLE_DEVICES"] == claimed[-1]
    assert claimed == ["3", "5", "3", "5", "3"]
    assert claim_gpu(None, ["3"]) is None and claim_gpu(counter, []) is None


def test_gpus_to_spread_only_for_several_workers_and_gpus(monkeypatch: pytest.MonkeyPatch) -> None:
    from voxrepro.pipeline.process import gpus_to_spread

    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert gpus_to_spread(PipelineSettings(device="cuda"), 4) == ["0", "1"]
    assert gpus_to_spread(PipelineSettings(device="auto"), 4) == ["0", "1"]
    assert gpus_to_spread(PipelineSettings(device="cuda"), 1) == []  # one worker: nothing to do
    assert gpus_to_spread(PipelineSettings(device="cuda:1"), 4) == []  # the user's pick
    assert gpus_to_spread(PipelineSettings(device="cpu"), 4) == []
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,7")
    assert gpus_to_spread(PipelineSettings(device="cuda"), 4) == ["2", "7"]
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert gpus_to_spread(PipelineSettings(device="cuda"), 4) == []


def _visible_gpu(_: int) -> str:
    return os.environ.get("CUDA_VISIBLE_DEVICES", "")


def test_each_pool_worker_claims_a_gpu_before_work() -> None:
    import multiprocessing as mp

    from voxrepro.pipeline.process import claim_gpu

    counter = mp.get_context("spawn").Value("i", 0)
    seen = set(run_parallel(_visible_gpu, range(6), 2, claim_gpu, (counter, ["0", "1"])))
    assert counter.value == 2  # each of the two processes claimed once, before its items
    assert seen <= {"0", "1"} and seen


def test_cuda_out_of_memory_is_one_actionable_line(tmp_path: Path) -> None:
    from voxrepro.pipeline.video import _failure_reason

    class OutOfMemoryError(RuntimeError):  # torch.cuda.OutOfMemoryError's name
        pass

    page = (
        "CUDA out of memory. Tried to allocate 900.00 MiB. GPU 0 has a total capacity of "
        "79.18 GiB of which 624.44 MiB is free. Process 771 has 66.00 MiB memory in use.\nmore"
    )
    reason = _failure_reason(tmp_path / "v.mp4", OutOfMemoryError(page))
    assert reason.startswith(f"{tmp_path / 'v.mp4'}: CUDA out of memory. Tried to allocate")
    assert "--workers" in reason and "--batch-size" in reason
    assert "\n" not in reason and "Process 771" not in reason
    other = _failure_reason(tmp_path / "v.mp4", ValueError("bad\nsecond line"))
    assert other == f"{tmp_path / 'v.mp4'}: ValueError: bad"


def test_sharing_a_gpu_without_mps_is_warned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from voxrepro.pipeline.process import gpu_sharing_warning, mps_running

    monkeypatch.setenv("CUDA_MPS_PIPE_DIRECTORY", str(tmp_path))
    assert not mps_running()
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    warning = gpu_sharing_warning(PipelineSettings(device="cuda"), 4)
    assert warning is not None and "nvidia-cuda-mps-control -d" in warning
    assert warning.startswith("4 workers share the GPU")
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert gpu_sharing_warning(PipelineSettings(device="cuda"), 2) is None  # one worker a GPU
    spread = gpu_sharing_warning(PipelineSettings(device="cuda"), 5)
    assert spread is not None and spread.startswith("3 workers share each of the 2 GPUs")
    # cuda:0 pins every worker to one GPU, so they do share it
    assert gpu_sharing_warning(PipelineSettings(device="cuda:0"), 2) is not None
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert gpu_sharing_warning(PipelineSettings(device="cuda"), 1) is None
    assert gpu_sharing_warning(PipelineSettings(device="cpu"), 4) is None
    (tmp_path / "control").touch()  # the daemon's control pipe
    assert mps_running() and gpu_sharing_warning(PipelineSettings(device="cuda"), 4) is None
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    (tmp_path / "control").unlink()
    assert gpu_sharing_warning(PipelineSettings(device="auto"), 4) is None  # no GPU: nothing
