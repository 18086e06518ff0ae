"""The device frame route, run on the CPU device: the same shots, detections and (to one grey
level) crops as the host route, with S3FD's input bit-identical."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from test_pipeline_shots import SHOT_COLOURS, SHOT_LENGTHS, draw_mark, read_mark

from voxrepro.detect.base import Detector
from voxrepro.detect.s3fd import S3FDDetector
from voxrepro.detect.s3fd_net import S3FDNet
from voxrepro.errors import InvalidInputError
from voxrepro.media import VideoWriter
from voxrepro.media.i420 import DeviceFrame
from voxrepro.pipeline.clock import StageClock
from voxrepro.pipeline.crops import cut_track_crops
from voxrepro.pipeline.device_frames import (
    DeviceShotFrames,
    PinnedChunks,
    crop_batch_frames,
    new_device_store,
    resolve_frame_device,
)
from voxrepro.pipeline.framestore import ShotFrames
from voxrepro.pipeline.settings import Mode, PipelineSettings
from voxrepro.pipeline.shots import iter_shots

W, H = 160, 96
CPU = torch.device("cpu")


class MarkDetector(Detector):
    """Test double taking host BGR frames or, on the CPU device, packed ones (``DeviceFrame``).

    Returns one box per frame whose x1 is the frame's index read from its pixels, and records
    what kind of frame it was given.
    """

    NAME = "marks"

    def __init__(self, device: torch.device | None = CPU) -> None:
        self.device = device
        self.kinds: set[str] = set()

    def frame_device(self) -> torch.device | None:
        return self.device

    def detect_batch(self, frames: Sequence[np.ndarray]) -> list[np.ndarray]:
        self.kinds.add("bgr")
        return [self._box(read_mark(frame)) for frame in frames]

    def detect_prepared(self, prepared: Sequence[object]) -> list[np.ndarray]:
        if all(isinstance(item, DeviceFrame) for item in prepared):
            self.kinds.add("device")
            frames = [cv2.cvtColor(item.i420.numpy(), cv2.COLOR_YUV2BGR_I420) for item in prepared]  # type: ignore[union-attr]
            return [self._box(read_mark(frame)) for frame in frames]
        return self.detect_batch(prepared)  # type: ignore[arg-type]

    @staticmethod
    def _box(mark: int) -> np.ndarray:
        return np.array([[mark, 10.0, mark + 50.0, 60.0, 0.99]])


@pytest.fixture(scope="module")
def marked_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("device") / "three_shots.mp4"
    rng = np.random.default_rng(0)
    texture = cv2.resize(rng.integers(0, 80, (12, 20, 3), dtype=np.uint8), (W, H))
    index = 0
    with VideoWriter(path, width=W, height=H, fps=25, audio_rate=None, crf=0) as writer:
        for colour, length in zip(SHOT_COLOURS, SHOT_LENGTHS, strict=True):
            for _ in range(length):
                frame = (texture + np.array(colour, np.uint8)).astype(np.uint8)
                draw_mark(frame, index)
                writer.write_frame(frame)
                index += 1
    return path


def _shots(path: Path, detector: Detector, device: torch.device | None, **kwargs) -> list:
    """(start, end, detections, frames store) per shot; stores are kept (not cleared)."""
    out = []
    shots = iter_shots(
        path,
        detector,
        batch_size=kwargs.pop("batch_size", 16),
        detect_every=kwargs.pop("detect_every", 1),
        clock=StageClock(),
        shot_buffer_bytes=kwargs.pop("shot_buffer_bytes", 1 << 30),
        frame_device=device,
        device_buffer_bytes=kwargs.pop("device_buffer_bytes", 1 << 30),
        **kwargs,
    )
    for shot in shots:
        windows = np.array([(5 + k % 7, 3, 105 + k % 7, 93) for k in range(len(shot))])
        frames = np.arange(shot.start, shot.end)
        crops = cut_track_crops(shot.frames, shot.start, frames, windows, size=64)
        out.append((shot.start, shot.end, shot.complete_detections(), crops, type(shot.frames)))
        # iter_shots reuses the store after this shot: copy what the test reads
    return out


def test_device_route_gives_the_host_route_shots_detections_and_crops(marked_video: Path) -> None:
    host_detector, device_detector = MarkDetector(), MarkDetector()
    on_host = _shots(marked_video, host_detector, None)
    on_device = _shots(marked_video, device_detector, CPU)
    assert host_detector.kinds == {"bgr"} and device_detector.kinds == {"device"}
    assert [(s, e) for s, e, *_ in on_device] == [(0, 40), (40, 70), (70, 120)]
    assert [(s, e) for s, e, *_ in on_host] == [(s, e) for s, e, *_ in on_device]
    for (start, _, host_boxes, host_crops, host_store), (
        _,
        _,
        dev_boxes,
        dev_crops,
        dev_store,
    ) in zip(on_host, on_device, strict=True):
        assert host_store is ShotFrames and dev_store is DeviceShotFrames
        marks = [int(boxes[0, 0]) for boxes in dev_boxes]
        assert marks == list(range(start, start + len(dev_boxes)))
        for host, dev in zip(host_boxes, dev_boxes, strict=True):
            assert np.array_equal(host, dev)
        assert np.abs(host_crops.astype(int) - dev_crops).max() <= 1


def test_detect_every_holds_on_the_device_route(marked_video: Path) -> None:
    shots = _shots(marked_video, MarkDetector(), CPU, detect_every=4)
    for start, _, detections, *_ in shots:
        for local, boxes in enumerate(detections):
            assert int(boxes[0, 0]) == start + (local // 4) * 4


def test_frames_past_the_device_budget_wait_on_the_host_and_crop_the_same(
    marked_video: Path, tmp_path: Path
) -> None:
    frame_bytes = H * W * 3 // 2
    whole = _shots(marked_video, MarkDetector(), CPU)
    budget = _shots(
        marked_video,
        MarkDetector(),
        CPU,
        device_buffer_bytes=10 * frame_bytes,
        shot_buffer_bytes=20 * frame_bytes,
        spill_dir=tmp_path,
    )
    for (_, _, _, crops, _), (_, _, _, budget_crops, _) in zip(whole, budget, strict=True):
        assert np.array_equal(crops, budget_crops)


def test_device_store_offloads_then_spills_in_order(tmp_path: Path) -> None:
    store = new_device_store(device_bytes=3 * 24, host_bytes=2 * 24, spill_dir=tmp_path)
    frames = [DeviceFrame(torch.full((6, 4), i, dtype=torch.uint8), 4, 4) for i in range(8)]
    for frame in frames:
        store.append(frame)
    assert len(store) == 8 and store.offloaded == 5 and store.spilled
    for i in range(8):
        assert torch.equal(store.packed(i), frames[i].i420)
    with pytest.raises(ValueError, match="frame size changed"):
        store.append(DeviceFrame(torch.zeros((9, 6), dtype=torch.uint8), 6, 6))
    store.clear()
    assert len(store) == 0 and not any(tmp_path.iterdir())


def test_videos_that_cannot_go_the_device_route_go_the_host_route(tmp_path: Path) -> None:
    # 14 rows: S3FD's quarter of such a frame cannot be taken exactly on the device.
    path = tmp_path / "short_rows.mp4"
    with VideoWriter(path, width=64, height=14, fps=25, audio_rate=None) as writer:
        for index in range(20):
            writer.write_frame(np.full((14, 64, 3), 5 * index, np.uint8))
    detector = MarkDetector()
    shots = iter_shots(
        path,
        detector,
        batch_size=8,
        detect_every=1,
        clock=StageClock(),
        shot_buffer_bytes=1 << 20,
        frame_device=CPU,
    )
    stores = {type(shot.frames) for shot in shots}
    assert detector.kinds == {"bgr"} and stores == {ShotFrames}


def test_s3fd_detects_the_same_on_packed_device_frames() -> None:
    torch.manual_seed(0)
    s3fd = S3FDDetector(net=S3FDNet(), device="cpu", batch_size=2, threads=1)
    # A random network finds "faces" everywhere at a zero threshold: many boxes to compare.
    s3fd.params = dataclasses.replace(s3fd.params, conf_th=0.0)
    rng = np.random.default_rng(0)
    packed = [
        cv2.cvtColor(rng.integers(0, 256, (720, 1280, 3), dtype=np.uint8), cv2.COLOR_BGR2YUV_I420)
        for _ in range(3)
    ]
    bgr = [cv2.cvtColor(frame, cv2.COLOR_YUV2BGR_I420) for frame in packed]
    expected = s3fd.detect_batch(bgr)
    got = s3fd.detect_prepared([DeviceFrame(torch.from_numpy(p), 720, 1280) for p in packed])
    assert sum(len(boxes) for boxes in expected) > 0
    for want, have in zip(expected, got, strict=True):
        assert np.array_equal(want, have)


def test_route_choice() -> None:
    torch.manual_seed(0)
    cpu_s3fd = S3FDDetector(net=S3FDNet(), device="cpu", threads=1)
    assert resolve_frame_device("auto", cpu_s3fd) is None  # the route pays only on a GPU
    assert resolve_frame_device("cpu", cpu_s3fd) is None
    with pytest.raises(InvalidInputError, match="--frame-device cuda needs"):
        resolve_frame_device("cuda", cpu_s3fd)
    assert resolve_frame_device("auto", MarkDetector(None)) is None
    with pytest.raises(InvalidInputError, match="--frame-device must be one of"):
        PipelineSettings(frame_device="gpu")
    with pytest.raises(InvalidInputError, match="--frame-device cuda needs --device"):
        PipelineSettings(frame_device="cuda", device="cpu")


def test_pinned_chunks_are_reused_by_shape() -> None:
    pool = PinnedChunks(pin=False, frames=4)
    first = pool.take(6, 8)
    pool.give_back(first)
    assert pool.take(8, 8) is not first
    assert pool.take(6, 8) is first


def test_crop_batches_shrink_for_large_windows() -> None:
    small = np.array([(0, 0, 300, 300)])
    large = np.array([(0, 0, 1000, 1200), (0, 0, 40, 40)])
    assert crop_batch_frames(small) == 32
    assert crop_batch_frames(large) == 8_000_000 // (1200 * 1200)
    assert crop_batch_frames(np.array([(0, 0, 5000, 5000)])) == 1


class HostDetectorOnPackedFrames(Detector):
    """Test double: the embedded detector behind the device route's interface, on the CPU
    device (packed frames converted with OpenCV, exactly as the host route converts them)."""

    NAME = "embedded-on-packed"

    def __init__(self, inner: Detector) -> None:
        self.inner = inner

    def frame_device(self) -> torch.device:
        return CPU

    def detect_batch(self, frames: Sequence[np.ndarray]) -> list[np.ndarray]:
        return self.inner.detect_batch(frames)

    def detect_prepared(self, prepared: Sequence[object]) -> list[np.ndarray]:
        if prepared and isinstance(prepared[0], DeviceFrame):
            packed = [cv2.cvtColor(f.i420.numpy(), cv2.COLOR_YUV2BGR_I420) for f in prepared]  # type: ignore[union-attr]
            return self.inner.detect_batch(packed)
        return self.inner.detect_prepared(prepared)


@pytest.mark.slow
@pytest.mark.parametrize("mode", [Mode.VOX2, Mode.CENTRED])
def test_whole_pipeline_writes_the_same_metafiles_on_either_route(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: Mode
) -> None:
    import voxrepro.pipeline.video as video_module
    from voxrepro.demo.source import DEMO_REFERENCE, write_demo_video
    from voxrepro.pipeline.models import get_detector

    source = write_demo_video(tmp_path / f"{DEMO_REFERENCE}.mp4")
    settings = PipelineSettings(mode=mode)
    host = video_module.process_video(source, tmp_path / "host", settings)
    inner = get_detector(settings)
    monkeypatch.setattr(video_module, "get_detector", lambda _s: HostDetectorOnPackedFrames(inner))
    monkeypatch.setattr(video_module, "resolve_frame_device", lambda _choice, _detector: CPU)
    device = video_module.process_video(source, tmp_path / "device", settings)
    assert (host.status, device.status) == ("done", "done")
    assert (host.frames_on, device.frames_on) == ("host", "cpu")
    assert device.tracks == host.tracks > 0
    texts = sorted(p.relative_to(tmp_path / "host") for p in (tmp_path / "host").rglob("*.txt"))
    assert texts
    for text in texts:
        assert (tmp_path / "device" / text).read_bytes() == (tmp_path / "host" / text).read_bytes()
    clips = sorted((tmp_path / "host" / "clips").rglob("*.mp4"))
    assert [c.relative_to(tmp_path / "host") for c in clips] == [
        c.relative_to(tmp_path / "device")
        for c in sorted((tmp_path / "device" / "clips").rglob("*.mp4"))
    ]


def test_gpu_frame_route_is_refused_up_front_when_it_cannot_run(tmp_path: Path) -> None:
    from voxrepro.pipeline.run import run_pipeline

    video = tmp_path / "v.mp4"
    video.write_bytes(b"not read")
    with pytest.raises(InvalidInputError, match="needs the S3FD detector"):
        run_pipeline([video], tmp_path / "out", PipelineSettings(frame_device="cuda"))
    with pytest.raises(InvalidInputError, match="needs the S3FD detector"):
        settings = PipelineSettings(
            frame_device="cuda", detector="s3fd", s3fd_weights=video, facedet_scale=0.5
        )
        run_pipeline([video], tmp_path / "out", settings)
    if not torch.cuda.is_available():
        with pytest.raises(InvalidInputError, match="needs a CUDA GPU"):
            settings = PipelineSettings(frame_device="cuda", s3fd_weights=video)
            run_pipeline([video], tmp_path / "out", settings)
    assert not (tmp_path / "out").exists()
