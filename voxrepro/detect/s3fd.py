"""S3FD face detector on the official ``sfd_face.pth`` weights, batched (spec §4).

Default behaviour reproduces the reference numbers: OpenCV INTER_LINEAR resize by 0.25 on CPU,
RGB minus (123, 117, 104), fp32, the two NMS stages of ``s3fd_box``. Speed comes from batching
many frames (same size) into one forward pass, resizing on worker threads (OpenCV releases the
GIL) and a vectorised NMS that stops at conf_th (exact: lower boxes are discarded anyway).

Options that trade parity for speed, both off by default and recorded by ``describe()``:
``resize="torch"`` (bilinear ``interpolate`` on the device; not bit-identical to OpenCV),
``fp16=True`` (autocast on CUDA only) and ``tf32=True`` (let cuDNN use TF32 for the fp32
convolutions on Ampere and later GPUs; off by default, so fp32 on CUDA means full fp32).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

import cv2
import numpy as np
import torch

from voxrepro.detect.base import (
    BgrFrame,
    Detections,
    Detector,
    DetectorName,
    check_frames,
    register_detector,
)
from voxrepro.detect.s3fd_box import (
    DEFAULT_PARAMS,
    DetectParams,
    decode_boxes,
    detect_step,
    face_scores,
    make_priors,
    postprocess_detections,
)
from voxrepro.detect.s3fd_net import S3FDNet, load_s3fd
from voxrepro.errors import InvalidInputError, ModelError
from voxrepro.media.i420 import DeviceFrame, quarter_bgr, quarter_is_exact, quarter_size
from voxrepro.types import Pathlike

log = logging.getLogger("voxrepro")
#: Packed frames converted and shrunk at a time on the device (bounds the int32 temporaries).
QUARTER_SLICE = 64

#: Per-channel means subtracted from the RGB input (spec §4.2), not divided by 255.
RGB_MEANS = (123.0, 117.0, 104.0)
DEFAULT_SCALE = 0.25
DEFAULT_BATCH_SIZE = 16
ResizeMode = Literal["cv2", "torch"]


def resolve_device(device: str) -> torch.device:
    """'auto' -> CUDA when available else CPU; 'cpu' / 'cuda' / 'cuda:N' as given.

    Raises:
        InvalidInputError: CUDA was asked for but is not available, or the name is unknown.
    """
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cpu":
        return torch.device("cpu")
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise InvalidInputError(f"device {device!r} requested but CUDA is not available")
        return torch.device(device)
    raise InvalidInputError(f"unknown device {device!r} (use auto, cpu or cuda)")


def scaled_size(height: int, width: int, scale: float) -> tuple[int, int]:
    """(h, w) of OpenCV's ``resize(dsize=(0, 0), fx=s, fy=s)``: round(dim * s), at least 1."""
    return max(1, round(height * scale)), max(1, round(width * scale))


@dataclass(frozen=True)
class ShrunkFrame:
    """A frame resized for the network by ``S3FDDetector.prepare``, with its original size."""

    image: BgrFrame
    frame_size: tuple[int, int]  # (height, width) of the original frame, for the boxes


def size_chunks(sizes: Sequence[tuple[int, int]], batch_size: int) -> list[list[int]]:
    """Input positions grouped by frame size (first seen first), cut into batches.

    Only frames of one size can share a forward pass; each batch holds ``batch_size`` at most.
    """
    by_size: dict[tuple[int, int], list[int]] = {}
    for index, size in enumerate(sizes):
        by_size.setdefault(size, []).append(index)
    return [
        indices[start : start + batch_size]
        for indices in by_size.values()
        for start in range(0, len(indices), batch_size)
    ]


def _in_input_order(
    count: int, chunks: list[list[int]], per_chunk: Iterable[list[Detections]]
) -> list[Detections]:
    """Per-chunk detections put back in the order of the ``count`` inputs."""
    results: list[Detections | None] = [None] * count
    for chunk, detections in zip(chunks, per_chunk, strict=True):
        for index, found in zip(chunk, detections, strict=True):
            results[index] = found
    return [found for found in results if found is not None]


def resize_frame(frame: BgrFrame, scale: float) -> BgrFrame:
    """OpenCV INTER_LINEAR resize by ``scale`` (spec §4.2). Channel order does not matter: the
    filter is per channel, so resizing BGR then flipping equals flipping then resizing."""
    if scale == 1.0:
        return frame
    return cv2.resize(frame, dsize=(0, 0), fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)


@contextlib.contextmanager
def cudnn_tf32(allowed: bool) -> Iterator[None]:
    """Set cuDNN's TF32 switch for the block and restore it after (it is process-global)."""
    previous = torch.backends.cudnn.allow_tf32
    torch.backends.cudnn.allow_tf32 = allowed
    try:
        yield
    finally:
        torch.backends.cudnn.allow_tf32 = previous


@register_detector
class S3FDDetector(Detector):
    """S3FD with batched forward passes.

    Args:
        weights: path to ``sfd_face.pth``; ``None`` only together with ``net``.
        device: 'auto', 'cpu' or 'cuda[:N]'.
        batch_size: frames per forward pass.
        scale: resize factor applied before the network (spec default 0.25).
        params: Detect-step and post-filter thresholds.
        resize: 'cv2' (spec, CPU threads) or 'torch' (bilinear on the device, faster on GPU,
            not bit-identical).
        fp16: autocast the network to float16 (CUDA only; default fp32 for parity).
        tf32: allow TF32 convolutions on CUDA (faster, about 1e-3 relative error; default off).
        threads: worker threads for the CPU resize.
        net: an already built network (tests use a random-init one; ``describe`` then says so).
    """

    NAME = DetectorName.S3FD.value

    def __init__(
        self,
        weights: Pathlike | None = None,
        device: str = "auto",
        batch_size: int = DEFAULT_BATCH_SIZE,
        scale: float = DEFAULT_SCALE,
        params: DetectParams = DEFAULT_PARAMS,
        resize: ResizeMode = "cv2",
        fp16: bool = False,
        tf32: bool = False,
        threads: int = 2,
        net: S3FDNet | None = None,
    ) -> None:
        if batch_size < 1:
            raise InvalidInputError(f"batch_size must be >= 1, got {batch_size}")
        if not 0.0 < scale <= 4.0:
            raise InvalidInputError(f"scale must be in (0, 4], got {scale}")
        if resize not in ("cv2", "torch"):
            raise InvalidInputError(f"resize must be 'cv2' or 'torch', got {resize!r}")
        self.device = resolve_device(device)
        if fp16 and self.device.type != "cuda":
            raise InvalidInputError("fp16 autocast is only offered on CUDA")
        if net is None:
            if weights is None:
                raise ModelError("S3FD needs a weights file (sfd_face.pth): see `voxrepro weights`")
            net = load_s3fd(weights, self.device)
        self.net = net.to(self.device).eval()
        # NHWC convolutions run on tensor cores without layout transposes on recent GPUs; the
        # maths is the same up to float summation order.
        self.channels_last = self.device.type == "cuda"
        if self.channels_last:
            self.net = self.net.to(memory_format=torch.channels_last)
        self._prefetch = ThreadPoolExecutor(max_workers=1) if self.device.type == "cuda" else None
        self.weights = Path(weights) if weights is not None else None
        self._weights_sha256: str | None = None
        self.batch_size = batch_size
        self.scale = scale
        self.params = params
        self.resize = resize
        self.fp16 = fp16
        self.tf32 = tf32
        self._pool = ThreadPoolExecutor(max_workers=max(1, threads)) if threads > 1 else None
        self._priors: dict[tuple[int, int], torch.Tensor] = {}
        self._means = torch.tensor(RGB_MEANS, dtype=torch.float32, device=self.device)

    # Detector API ---------------------------------------------------------------------------

    def detect_batch(self, frames: Sequence[BgrFrame]) -> list[Detections]:
        """Batched detection; frames of one size share a forward pass (``batch_size`` at most)."""
        check_frames(frames)
        chunks = size_chunks([(f.shape[0], f.shape[1]) for f in frames], self.batch_size)
        return _in_input_order(len(frames), chunks, self._detect_chunks(frames, chunks))

    def _detect_chunks(
        self, frames: Sequence[BgrFrame], chunks: list[list[int]]
    ) -> Iterator[list[Detections]]:
        """Detections per chunk; on CUDA the next chunk's resize overlaps this chunk's GPU work."""
        if self._prefetch is None or len(chunks) < 2:
            for chunk in chunks:
                yield self._detect_same_size([frames[i] for i in chunk])
            return
        pending = self._prefetch.submit(self._host_batch, [frames[i] for i in chunks[0]])
        for position, chunk in enumerate(chunks):
            host = pending.result()
            if position + 1 < len(chunks):
                upcoming = [frames[i] for i in chunks[position + 1]]
                pending = self._prefetch.submit(self._host_batch, upcoming)
            x = self._to_network_input(host)
            yield self.detect_tensor(x, [frames[i].shape[:2] for i in chunk])

    def prepare(self, frame: BgrFrame) -> object:
        """The frame shrunk for the network (OpenCV, spec §4.2) with its original size.

        The same resize ``detect_batch`` does, moved to the caller's thread; ``resize="torch"``
        shrinks on the device, so there the frame itself is kept.
        """
        check_frames([frame])
        if self.resize == "torch":
            return frame
        return ShrunkFrame(resize_frame(frame, self.scale), (frame.shape[0], frame.shape[1]))

    def frame_device(self) -> torch.device | None:
        """At the spec's 0.25 scale with OpenCV's resize, packed I420 frames on this detector's
        device are converted and shrunk there, exactly as OpenCV would (``quarter_bgr``)."""
        return self.device if self.scale == 0.25 and self.resize == "cv2" else None

    def detect_prepared(self, prepared: Sequence[object]) -> list[Detections]:
        """Detections for ``prepare`` outputs, or for ``DeviceFrame`` items when
        ``frame_device()`` allows: same numbers as ``detect_batch`` on the frames."""
        if prepared and all(isinstance(item, DeviceFrame) for item in prepared):
            return self._detect_device_frames(cast(Sequence[DeviceFrame], prepared))
        if self.resize == "torch":
            return self.detect_batch(prepared)  # type: ignore[arg-type]  # frames, see prepare
        shrunk = [item for item in prepared if isinstance(item, ShrunkFrame)]
        if len(shrunk) != len(prepared):
            raise InvalidInputError("detect_prepared takes the outputs of this detector's prepare")
        # Batched as detect_batch batches frames (by original size), so the numbers match.
        chunks = size_chunks([item.frame_size for item in shrunk], self.batch_size)
        per_chunk = (
            self.detect_tensor(
                self._to_network_input(self._stack_host([shrunk[i].image for i in chunk])),
                [shrunk[i].frame_size for i in chunk],
            )
            for chunk in chunks
        )
        return _in_input_order(len(shrunk), chunks, per_chunk)

    def _detect_device_frames(self, frames: Sequence[DeviceFrame]) -> list[Detections]:
        if self.frame_device() is None:
            raise InvalidInputError("this S3FD setup takes BGR frames, not packed I420 ones")
        chunks = size_chunks([(f.height, f.width) for f in frames], self.batch_size)
        per_chunk = (
            self.detect_tensor(
                self._to_network_input(self._quarter_device([frames[i] for i in chunk])),
                [(frames[i].height, frames[i].width) for i in chunk],
            )
            for chunk in chunks
        )
        return _in_input_order(len(frames), chunks, per_chunk)

    def _quarter_device(self, frames: Sequence[DeviceFrame]) -> torch.Tensor:
        height, width = frames[0].height, frames[0].width
        if not quarter_is_exact(height, width):
            raise InvalidInputError(
                f"{width}x{height} frames cannot be shrunk exactly on the device"
            )
        small = torch.empty(
            (len(frames), *quarter_size(height, width), 3), dtype=torch.uint8, device=self.device
        )
        # In slices: the int32 temporaries of a batch of 128 would take ~0.2 GB per worker.
        for start in range(0, len(frames), QUARTER_SLICE):
            part = frames[start : start + QUARTER_SLICE]
            batch = torch.stack([frame.i420.to(self.device) for frame in part])
            small[start : start + len(part)] = quarter_bgr(batch, height, width)
        return small

    def detect_batch_reference(self, frames: Sequence[BgrFrame]) -> list[Detections]:
        """The spec's way (§4.1): one frame per forward pass, resize in this thread.

        Same numbers as ``detect_batch`` (up to float noise of batched convolutions); kept as
        the benchmark's baseline.
        """
        check_frames(frames)
        return [self._detect_same_size([frame], threaded=False)[0] for frame in frames]

    def describe(self) -> dict[str, Any]:
        if self.weights is not None and self._weights_sha256 is None:
            from voxrepro.weights import sha256_of

            self._weights_sha256 = sha256_of(self.weights)
        p = self.params
        return {
            "name": self.NAME,
            "weights": str(self.weights) if self.weights else "random-init (no weights file)",
            "weights_sha256": self._weights_sha256,
            "scale": self.scale,
            "conf_th": p.conf_th,
            "nms_iou": p.nms_iou,
            "final_nms_iou": p.final_nms_iou,
            "candidate_score": p.candidate_score,
            "candidate_top_k": p.candidate_top_k,
            "keep_top_k": p.keep_top_k,
            "device": str(self.device),
            "batch_size": self.batch_size,
            "resize": self.resize,
            "fp16": self.fp16,
            "tf32": self.tf32,
            "channels_last": self.channels_last,
        }

    def close(self) -> None:
        for pool in (self._pool, self._prefetch):
            if pool is not None:
                pool.shutdown(wait=True)
        self._pool = self._prefetch = None

    # Internals ------------------------------------------------------------------------------

    def preprocess(self, frames: Sequence[BgrFrame], threaded: bool = True) -> torch.Tensor:
        """Same-size BGR frames -> (B, 3, h, w) float32 network input on the device (§4.2)."""
        if self.resize == "torch":
            batch = torch.from_numpy(np.stack(frames)).to(self.device)
            x = batch.permute(0, 3, 1, 2).float()
            x = torch.nn.functional.interpolate(
                x,
                size=scaled_size(x.shape[2], x.shape[3], self.scale),
                mode="bilinear",
                align_corners=False,
                antialias=False,
            )
            x = x.round().clamp(0, 255)  # back on the uint8 grid, as OpenCV's output is
        else:
            return self._to_network_input(self._host_batch(frames, threaded))
        x = x.flip(1)  # BGR -> RGB
        return (x - self._means.view(1, 3, 1, 1)).contiguous()

    def _host_batch(self, frames: Sequence[BgrFrame], threaded: bool = True) -> torch.Tensor:
        """Resize (OpenCV, spec §4.2) and stack on the host: (B, h, w, 3) uint8, pinned on CUDA."""
        if threaded and self._pool is not None and len(frames) > 1:
            small = list(self._pool.map(lambda f: resize_frame(f, self.scale), frames))
        else:
            small = [resize_frame(f, self.scale) for f in frames]
        return self._stack_host(small)

    def _stack_host(self, small: Sequence[BgrFrame]) -> torch.Tensor:
        """(B, h, w, 3) uint8 from shrunk frames, stacked straight into pinned memory on CUDA."""
        shape = (len(small), *small[0].shape)
        batch = torch.empty(shape, dtype=torch.uint8, pin_memory=self.device.type == "cuda")
        np.stack(small, out=batch.numpy())
        return batch

    def _to_network_input(self, host: torch.Tensor) -> torch.Tensor:
        """(B, h, w, 3) uint8 BGR on the host -> (B, 3, h, w) float32 RGB minus means, on device."""
        x = host.to(self.device, non_blocking=True).permute(0, 3, 1, 2).float()
        x = x.flip(1) - self._means.view(1, 3, 1, 1)  # BGR -> RGB, then the means
        if self.channels_last:
            return x.contiguous(memory_format=torch.channels_last)
        return x.contiguous()

    def _priors_for(self, height: int, width: int, sizes: list[tuple[int, int]]) -> torch.Tensor:
        key = (height, width)
        if key not in self._priors:
            self._priors[key] = make_priors(height, width, sizes).to(self.device)
        return self._priors[key]

    @torch.inference_mode()
    def detect_tensor(
        self, x: torch.Tensor, frame_sizes: list[tuple[int, int]]
    ) -> list[Detections]:
        """Run the network and both NMS stages on a preprocessed batch.

        Args:
            x: (B, 3, h, w) float32 output of ``preprocess``, on the device.
            frame_sizes: (height, width) in pixels of each ORIGINAL frame.
        """
        with contextlib.ExitStack() as stack:
            if self.device.type == "cuda":
                stack.enter_context(cudnn_tf32(self.tf32))
            if self.fp16:
                stack.enter_context(torch.autocast(device_type="cuda", dtype=torch.float16))
            loc, conf, sizes = self.net(x)
        loc = loc.float()
        priors = self._priors_for(int(x.shape[2]), int(x.shape[3]), sizes)
        boxes = decode_boxes(loc, priors)
        scores = face_scores(conf)
        kept_scores, kept_boxes = detect_step(
            boxes, scores, self.params, stop_at_or_below=self.params.conf_th
        )
        return postprocess_detections(kept_scores, kept_boxes, frame_sizes, self.params)

    def _detect_same_size(
        self, frames: Sequence[BgrFrame], threaded: bool = True
    ) -> list[Detections]:
        x = self.preprocess(frames, threaded=threaded)
        return self.detect_tensor(x, [f.shape[:2] for f in frames])
