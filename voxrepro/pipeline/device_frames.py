"""The device frame route: decoded frames go to the GPU unconverted, and only crops come back.

On a GPU host the pipeline is CPU-bound around the GPU. The host route converts every 720p frame
to BGR on the CPU and reads it three more times (S3FD's 0.25 resize, the shot cutter's sample,
the crops). On this route the decoding thread only packs each frame's Y, U, V planes into a
pinned chunk of frames; the worker uploads the chunk, and the detector's device converts and
shrinks it for S3FD, takes the shot cutter's sample, and cuts the 224² crops
(``voxrepro.media.i420``). S3FD's input and the shot cutter's samples are bit-identical to the
host route; crops agree to within OpenCV's fixed-point rounding (one level).

A shot's frames wait on the device, packed (1.4 MB a 720p frame), up to a byte budget; past it
they move to host memory (and from there, as on the host route, to a temp file).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import torch

from voxrepro.detect import Detector
from voxrepro.errors import InvalidInputError
from voxrepro.media import TimelineFrame
from voxrepro.media.i420 import DeviceFrame, quarter_is_exact, subsample_bgr, window_crops
from voxrepro.pipeline.framestore import ShotFrames
from voxrepro.pipeline.settings import FRAME_DEVICES, check_choice
from voxrepro.scenes import SceneSample, compute_downscale_factor

#: Frames per uploaded chunk: one hand-off between threads and one upload per chunk.
CHUNK_FRAMES = 32
#: Frames per crop batch at most, and the region pixels a batch converts at most (its float
#: copy, 12 bytes a pixel, is the peak memory: ~100 MB).
CROP_BATCH = 32
CROP_BATCH_PIXELS = 8_000_000


def resolve_frame_device(choice: str, detector: Detector) -> torch.device | None:
    """The device of the device frame route for this detector, or None for the host route.

    ``auto`` takes the route when the detector takes packed frames on a CUDA device (S3FD at
    its 0.25 scale); ``cuda`` insists on it; ``cpu`` keeps every frame on the host.
    """
    check_choice("--frame-device", choice, FRAME_DEVICES)
    if choice == "cpu":
        return None
    device = detector.frame_device()
    on_cuda = device is not None and torch.device(device).type == "cuda"
    if choice == "cuda" and not on_cuda:
        raise InvalidInputError(
            "--frame-device cuda needs the S3FD detector on CUDA at --facedet-scale 0.25"
        )
    return torch.device(device) if on_cuda else None


def takes_device_route(item: TimelineFrame) -> bool:
    """Whether a video whose first frame is ``item`` can go the device route exactly."""
    return quarter_is_exact(item.height, item.width) and item.has_i420


class PinnedChunks:
    """Reusable host buffers of ``CHUNK_FRAMES`` packed frames (page-locked when pinning).

    The decoding thread takes one, packs frames into it and hands it over; the worker gives it
    back once its upload is done. Allocating page-locked memory costs milliseconds, reusing it
    nothing.
    """

    def __init__(self, pin: bool, frames: int = CHUNK_FRAMES) -> None:
        self._pin = pin
        self._frames = frames
        self._free: list[torch.Tensor] = []
        self._lock = threading.Lock()

    def take(self, height: int, width: int) -> torch.Tensor:
        shape = (self._frames, height * 3 // 2, width)
        with self._lock:
            for index, buffer in enumerate(self._free):
                if tuple(buffer.shape) == shape:
                    return self._free.pop(index)
        return torch.empty(shape, dtype=torch.uint8, pin_memory=self._pin)

    def give_back(self, buffer: torch.Tensor) -> None:
        with self._lock:
            self._free.append(buffer)


@dataclass
class HostChunk:
    """Packed frames in a pinned buffer, as the decoding thread hands them over."""

    buffer: torch.Tensor  # (CHUNK_FRAMES, H * 3 / 2, W) uint8
    height: int
    width: int
    items: list[TimelineFrame] = field(default_factory=list)

    @property
    def full(self) -> bool:
        return len(self.items) == self.buffer.shape[0]

    def add(self, item: TimelineFrame) -> None:
        """Pack one frame (same size, 4:2:0) into the next slot."""
        if (item.height, item.width) != (self.height, self.width) or not item.pack_i420(
            self.buffer[len(self.items)].numpy()
        ):
            raise ValueError(
                f"frame {item.index}: size or pixel format changed within the video "
                f"({item.width}x{item.height})"
            )
        self.items.append(item)


def pack_chunks(frames: Iterator[TimelineFrame], pool: PinnedChunks) -> Iterator[HostChunk]:
    """Group timeline frames into packed chunks (runs on the decoding thread)."""
    chunk: HostChunk | None = None
    for item in frames:
        if chunk is None:
            chunk = HostChunk(pool.take(item.height, item.width), item.height, item.width)
        chunk.add(item)
        if chunk.full:
            yield chunk
            chunk = None
    if chunk is not None and chunk.items:
        yield chunk


@dataclass(frozen=True)
class UploadedFrame:
    """One frame of an uploaded chunk, with the shot cutter's sample already taken."""

    item: TimelineFrame
    frame: DeviceFrame
    scene: SceneSample


def upload_chunk(
    chunk: HostChunk, device: torch.device, pool: PinnedChunks, downscale: int | None
) -> list[UploadedFrame]:
    """Upload a chunk, take the shot cutter's samples on the device, release the buffer."""
    count, height, width = len(chunk.items), chunk.height, chunk.width
    # A copy even on a CPU device: the pinned buffer is reused for a later chunk.
    packed = chunk.buffer[:count].to(device, non_blocking=True, copy=True)
    step = downscale or compute_downscale_factor(width)
    samples = subsample_bgr(packed, height, width, step).cpu().numpy()  # waits for the upload
    pool.give_back(chunk.buffer)
    shape = (height, width, 3)
    return [
        UploadedFrame(
            item,
            DeviceFrame(packed[row], height, width),
            SceneSample(shape, cv2.cvtColor(samples[row], cv2.COLOR_BGR2HSV)),
        )
        for row, item in enumerate(chunk.items)
    ]


class DeviceShotFrames:
    """A shot's packed frames: on the device up to ``device_bytes``, then on the host.

    Same interface as ``ShotFrames`` (append, index from 0, clear); items are ``DeviceFrame``
    or, past the budget, packed host arrays (``host`` may spill those to disk).
    """

    def __init__(self, device_bytes: int, host: ShotFrames) -> None:
        self._device_bytes = device_bytes
        self._on_device: list[DeviceFrame] = []
        self._used = 0
        self._host = host
        self.device: torch.device | None = None
        self.frame_size: tuple[int, int] | None = None

    def __len__(self) -> int:
        return len(self._on_device) + len(self._host)

    @property
    def spilled(self) -> bool:
        return self._host.spilled

    @property
    def offloaded(self) -> int:
        """Frames kept on the host because the device budget was used up."""
        return len(self._host)

    def append(self, frame: DeviceFrame) -> None:
        if self.frame_size is None:
            self.frame_size, self.device = (frame.height, frame.width), frame.i420.device
        elif (frame.height, frame.width) != self.frame_size:
            raise ValueError(
                f"frame size changed within a shot: {frame.width}x{frame.height} != "
                f"{self.frame_size[1]}x{self.frame_size[0]}"
            )
        if not len(self._host) and self._used + frame.nbytes <= self._device_bytes:
            self._on_device.append(frame)
            self._used += frame.nbytes
        else:
            self._host.append(frame.i420.cpu().numpy())

    def packed(self, index: int) -> torch.Tensor:
        """Frame ``index`` as a packed ``(H * 3 / 2, W)`` tensor on the device."""
        if index < len(self._on_device):
            return self._on_device[index].i420
        host = self._host[index - len(self._on_device)]
        # A copy: a spilled frame is a read-only memmap row.
        return torch.from_numpy(np.array(host)).to(self.device)

    def clear(self) -> None:
        self._on_device = []
        self._used = 0
        self._host.clear()
        self.frame_size = None


def device_track_crops(
    frames: DeviceShotFrames,
    shot_start: int,
    track_frames: npt.NDArray[np.int64],
    windows: npt.NDArray[np.int64],
    size: int,
    pad_value: int,
) -> npt.NDArray[np.uint8]:
    """(T, size, size, 3) BGR crops of a track, cut on the device; only the crops come back."""
    if frames.frame_size is None:
        raise ValueError("no frames in this shot")
    height, width = frames.frame_size
    count = len(track_frames)
    crops = torch.empty((count, size, size, 3), dtype=torch.uint8, device=frames.device)
    # Every batch is queued before the one copy back: a worker waits on the GPU once a track.
    batch_frames = crop_batch_frames(windows)
    for start in range(0, count, batch_frames):
        rows = slice(start, start + batch_frames)
        batch = torch.stack([frames.packed(int(k) - shot_start) for k in track_frames[rows]])
        crops[rows] = window_crops(batch, height, width, windows[rows], size, pad_value)
    return crops.cpu().numpy()


def crop_batch_frames(windows: npt.NDArray[np.int64]) -> int:
    """Frames per crop batch: fewer for large windows (few, large GPU kernels are cheapest)."""
    side = int(max((windows[:, 2] - windows[:, 0]).max(), (windows[:, 3] - windows[:, 1]).max()))
    return int(np.clip(CROP_BATCH_PIXELS // max(side * side, 1), 1, CROP_BATCH))


def new_device_store(
    device_bytes: int, host_bytes: int, spill_dir: Path | None
) -> DeviceShotFrames:
    return DeviceShotFrames(device_bytes, ShotFrames(host_bytes, spill_dir))


__all__ = [
    "CHUNK_FRAMES",
    "DeviceShotFrames",
    "HostChunk",
    "PinnedChunks",
    "UploadedFrame",
    "crop_batch_frames",
    "device_track_crops",
    "new_device_store",
    "pack_chunks",
    "resolve_frame_device",
    "takes_device_route",
    "upload_chunk",
]
