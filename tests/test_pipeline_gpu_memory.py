"""Each video's record carries its worker's peak GPU memory; run.json and the CLI the largest."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest
import torch

from voxrepro.pipeline.run import RunSummary, build_run_record
from voxrepro.pipeline.settings import PipelineSettings
from voxrepro.pipeline.video import VideoResult, VideoStatus, gpu_memory_peak_mb


def _fake_torch(initialized: bool, reserved_bytes: int) -> types.SimpleNamespace:
    cuda = types.SimpleNamespace(
        is_initialized=lambda: initialized, max_memory_reserved=lambda: reserved_bytes
    )
    return types.SimpleNamespace(cuda=cuda)


def test_peak_is_none_without_cuda_and_mib_with_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", _fake_torch(False, 0))
    assert gpu_memory_peak_mb() is None  # CUDA never initialised in this process
    monkeypatch.setitem(sys.modules, "torch", _fake_torch(True, 3 * 2**30 + 2**19))
    assert gpu_memory_peak_mb() == 3072.5
    monkeypatch.delitem(sys.modules, "torch")
    assert gpu_memory_peak_mb() is None  # torch not even imported


def _result(reference: str, peak: float | None) -> VideoResult:
    return VideoResult(reference, f"{reference}.mp4", VideoStatus.DONE, gpu_memory_peak_mb=peak)


def test_run_record_keeps_the_largest_worker_peak(tmp_path: Path) -> None:
    summary = RunSummary(tmp_path, results=[_result("a", 900.0), _result("b", 2400.5)])
    record = build_run_record(summary, PipelineSettings())
    assert record["gpu_memory_peak_mb_per_worker"] == 2400.5
    assert summary.results[0].to_dict()["gpu_memory_peak_mb"] == 900.0
    cpu_only = RunSummary(tmp_path, results=[_result("a", None)])
    assert build_run_record(cpu_only, PipelineSettings())["gpu_memory_peak_mb_per_worker"] is None


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_peak_counts_what_pytorch_reserved_on_the_gpu() -> None:
    block = torch.empty(64 * 2**20, dtype=torch.uint8, device="cuda")  # 64 MiB
    peak = gpu_memory_peak_mb()
    assert peak is not None and peak >= 64
    del block
