"""NV12 frames (what NVDEC hands back) convert exactly like the CPU decoder's yuv420p frames,
and decoding on the GPU gives the CPU decoder's frames (run where CUDA is present)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from voxrepro import media, synth
from voxrepro.errors import DecodeError

REGION = (16, 16, 96)


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("gpu_decode") / "src.mp4"
    return synth.write_synthetic_video(
        path, num_frames=60, fps=25, width=160, height=128, region=REGION
    )


def _nv12_twin(item: media.TimelineFrame) -> media.TimelineFrame:
    # PyAV's reformat to NV12 only interleaves the chroma samples: same values, NVDEC's layout.
    nv12 = item._frame.reformat(format="nv12")
    assert nv12.format.name == "nv12"
    return media.TimelineFrame(item.index, nv12)


def test_nv12_frames_convert_like_yuv420p(source: Path) -> None:
    for item in media.iter_timeline(source, start=3, stop=8):
        twin = _nv12_twin(item)
        assert np.array_equal(twin.to_bgr(), item.to_bgr())
        assert np.array_equal(twin.to_grey(), item.to_grey())
        assert synth.read_barcode(twin.to_bgr(), REGION) == item.index


def test_nv12_windows_equal_the_yuv420p_windows(source: Path) -> None:
    item = next(iter(media.iter_timeline(source, start=10, stop=11)))
    for window in [(0, 0, 160, 128), (3, 5, 50, 61), (1, 1, 2, 2), (100, 77, 159, 127)]:
        twin = _nv12_twin(item)  # fresh: no cached full conversion
        assert np.array_equal(twin.crop_bgr(*window), item.crop_bgr(*window)), window
        ours, theirs = twin.crop_planes(*window), item.crop_planes(*window)
        assert ours is not None and theirs is not None
        for a, b in zip(ours, theirs, strict=True):
            assert np.array_equal(a, b), window


def test_gpu_decoding_with_sparse_indices_is_refused(source: Path) -> None:
    with pytest.raises(ValueError, match="sequential"):
        next(iter(media.iter_timeline(source, wanted=[1, 2], gpu=0)))


def _has_nvdec() -> bool:
    import torch

    return torch.cuda.is_available()


@pytest.mark.skipif(_has_nvdec(), reason="this machine has a GPU")
def test_gpu_decoding_without_a_gpu_is_one_decode_error(source: Path) -> None:
    with pytest.raises(DecodeError, match="GPU decoder") as caught:
        next(iter(media.iter_timeline(source, gpu=0)))
    assert str(source) in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.skipif(not _has_nvdec(), reason="needs a CUDA GPU with NVDEC")
def test_nvdec_frames_equal_cpu_frames(tmp_path: Path) -> None:
    # 30 fps source at an NVDEC-friendly size: the 25 fps timeline drops the same frames.
    path = synth.write_synthetic_video(
        tmp_path / "nv.mp4", num_frames=90, fps=30, width=320, height=240, region=REGION
    )
    cpu = [(item.index, item.to_bgr()) for item in media.iter_timeline(path)]
    gpu_items = list(media.iter_timeline(path, gpu=0))
    assert gpu_items[0]._frame.format.name == "nv12"  # really decoded by NVDEC
    gpu = [(item.index, item.to_bgr()) for item in gpu_items]
    assert [k for k, _ in gpu] == [k for k, _ in cpu]
    for (k, a), (_, b) in zip(cpu, gpu, strict=True):
        assert np.array_equal(a, b), k
