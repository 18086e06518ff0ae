"""Pipeline settings: one frozen dataclass instead of a global options object.

Defaults follow spec §12's voxrepro columns. ``Mode.VOX2`` is the vox2-compatible mode (min face
50 px, UP's non-centred window shifted inside the frame, never padded); ``Mode.CENTRED`` is
SEED's mode (min face 100 px, centred window padded with grey 110).
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from voxrepro.cuda_wait import CudaWait
from voxrepro.errors import InvalidInputError


class Mode(enum.StrEnum):
    VOX2 = "vox2"
    CENTRED = "centred"


#: Spec §12: min_face_size (strict >, original pixels) per mode.
MIN_FACE_BY_MODE = {Mode.VOX2: 50.0, Mode.CENTRED: 100.0}
#: Spec §12: detections a track needs (strict >), SEED's value in both modes.
MIN_TRACK = 75
CROP_SIZE = 224
CROP_SCALE = 0.40
PAD_VALUE = 110
MEDIAN_KERNEL = 13
CUDA_WAITS = tuple(policy.value for policy in CudaWait)
DECODE_DEVICES = ("cpu", "cuda")
FRAME_DEVICES = ("auto", "cpu", "cuda")


def check_choice(option: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise InvalidInputError(f"{option} must be one of {', '.join(choices)}, got {value!r}")


@dataclass(frozen=True)
class PipelineSettings:
    """Everything that changes the pipeline's output (recorded in ``run.json``).

    Attributes:
        mode: vox2 (default) or centred crop geometry and min face size.
        detector: auto | s3fd | yunet | haar (auto: S3FD when weights are given, else yuface,
            else Haar).
        s3fd_weights: path to ``sfd_face.pth``.
        syncnet_weights: path to ``syncnet_v2.model``; None skips SyncNet (one segment per
            track, ASD Conf written as 0.000 and flagged).
        device: auto | cpu | cuda[:N] for S3FD and SyncNet.
        batch_size: frames per detector forward pass.
        syncnet_batch_size: 5-frame windows per SyncNet forward pass.
        detect_every: run the detector on every N-th frame of a shot and hold its boxes for the
            following N-1 frames (frame numbers stay exact).
        min_face_size: override of the mode's min face size (pixels, strict >).
        min_track: detections a track needs (strict >).
        facedet_scale: S3FD input scale (spec §4.2).
        identity: identity written into the metafiles.
        fp16: autocast S3FD and SyncNet to float16 on CUDA (default off: parity).
        shot_buffer_mb: frames of one shot kept in memory before spilling to a raw temp file.
        decode_threads: FFmpeg decoding threads per video (0: automatic, one per core for a
            single worker, the worker's share of the cores with several).
        decode_device: cpu (FFmpeg's software decoder, default) or cuda (NVDEC on the GPU of
            ``device``; same frames, since H.264 decoding is bit-exact, and the CPU is left to
            the rest of the pipeline).
        frame_device: where decoded frames are converted, shrunk and cropped: auto (on the
            GPU when S3FD runs there at scale 0.25, else on the host), cpu (always the host),
            cuda (the GPU, refused when S3FD is not on CUDA at 0.25). See
            ``voxrepro.pipeline.device_frames``.
        device_shot_buffer_mb: on the GPU frame route, a shot's frames kept on the GPU before
            the rest wait in host memory (then on disk, past ``shot_buffer_mb``).
        write_clips: encode each segment's 224² clip (default); off writes the metafiles and
            records only (clips can be made later with ``voxrepro recrop``).
        cuda_wait: how CPU threads wait on the GPU: block (sleep, default: frees the core for
            other workers), spin, yield or auto (CUDA's default heuristic, which spins).
    """

    mode: Mode = Mode.VOX2
    detector: str = "auto"
    s3fd_weights: Path | None = None
    syncnet_weights: Path | None = None
    device: str = "auto"
    batch_size: int = 32
    syncnet_batch_size: int = 64
    detect_every: int = 1
    min_face_size: float | None = None
    min_track: int = MIN_TRACK
    facedet_scale: float = 0.25
    identity: str = "unknown"
    fp16: bool = False
    shot_buffer_mb: int = 4096
    decode_threads: int = 0
    decode_device: str = "cpu"
    frame_device: str = "auto"
    device_shot_buffer_mb: int = 1024
    write_clips: bool = True
    cuda_wait: str = "block"
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.detect_every < 1:
            raise InvalidInputError(f"--detect-every must be >= 1, got {self.detect_every}")
        if self.batch_size < 1 or self.syncnet_batch_size < 1:
            raise InvalidInputError("batch sizes must be >= 1")
        if self.decode_threads < 0:
            raise InvalidInputError(f"--decode-threads must be >= 0, got {self.decode_threads}")
        check_choice("--cuda-wait", self.cuda_wait, CUDA_WAITS)
        for option, value, choices in (
            ("--decode-device", self.decode_device, DECODE_DEVICES),
            ("--frame-device", self.frame_device, FRAME_DEVICES),
        ):
            check_choice(option, value, choices)
            if value == "cuda" and self.cuda_index is None:
                raise InvalidInputError(f"{option} cuda needs --device auto, cuda or cuda:N")
        if self.device_shot_buffer_mb < 0:
            raise InvalidInputError(
                f"--device-shot-buffer-mb must be >= 0, got {self.device_shot_buffer_mb}"
            )
        if self.min_track < 1:
            raise InvalidInputError(f"--min-track must be >= 1, got {self.min_track}")

    @property
    def effective_min_face(self) -> float:
        if self.min_face_size is not None:
            return float(self.min_face_size)
        return MIN_FACE_BY_MODE[Mode(self.mode)]

    @property
    def cuda_index(self) -> int | None:
        """The CUDA device index ``device`` names (0 for auto/cuda), None for the CPU."""
        if self.device in ("auto", "cuda"):
            return 0
        if self.device.startswith("cuda:") and self.device[5:].isdigit():
            return int(self.device[5:])
        return None

    @property
    def decode_gpu(self) -> int | None:
        """The CUDA device NVDEC decodes on, or None for CPU decoding."""
        return self.cuda_index if self.decode_device == "cuda" else None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["mode"] = str(self.mode)
        data["min_face_size"] = self.effective_min_face
        for key in ("s3fd_weights", "syncnet_weights"):
            data[key] = str(data[key]) if data[key] is not None else None
        return data
