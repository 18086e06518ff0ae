"""Face detectors behind one contract (``Detector``) and a factory (``make_detector``).

Backends: ``s3fd`` (the official VoxCeleb2 pipeline detector; needs ``sfd_face.pth``), ``yunet``
(yuface, weights compiled in; the default when no S3FD weights are given) and ``haar`` (OpenCV's
cascade; the fallback where yuface has no wheel). Backend modules are imported on demand, so
importing this package does not pull in torch.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging

from voxrepro.detect.base import (
    DETECTORS,
    FINAL_NMS_IOU,
    BgrFrame,
    Detections,
    Detector,
    DetectorName,
    empty_detections,
)
from voxrepro.errors import InvalidInputError, ModelError
from voxrepro.types import Pathlike

log = logging.getLogger("voxrepro")

_MODULES = {
    DetectorName.S3FD: "voxrepro.detect.s3fd",
    DetectorName.YUNET: "voxrepro.detect.yunet",
    DetectorName.HAAR: "voxrepro.detect.haar",
}


def detector_class(name: str) -> type[Detector]:
    """The class registered under ``name`` ('s3fd', 'yunet', 'haar'), importing it on demand.

    Raises:
        InvalidInputError: unknown name.
    """
    try:
        key = DetectorName(name)
        module = _MODULES[key]
    except (ValueError, KeyError):
        known = ", ".join(n.value for n in _MODULES)
        raise InvalidInputError(f"unknown detector {name!r} (choose auto, {known})") from None
    importlib.import_module(module)
    return DETECTORS[key.value]


def yuface_available() -> bool:
    """True when the yuface wheel is importable here (CPython <= 3.11, Linux x86_64)."""
    return importlib.util.find_spec("yuface") is not None


def available_detectors() -> list[str]:
    """Backends that can run here without a weights download (S3FD is listed: it runs once a
    weights file is given)."""
    names = [DetectorName.S3FD.value]
    if yuface_available():
        names.append(DetectorName.YUNET.value)
    names.append(DetectorName.HAAR.value)
    return names


def make_detector(
    name: str = DetectorName.AUTO,
    s3fd_weights: Pathlike | None = None,
    device: str = "auto",
    batch_size: int = 16,
    scale: float = 0.25,
    fp16: bool = False,
    tf32: bool = False,
) -> Detector:
    """Build a detector by name; record ``detector.describe()`` next to its output.

    Args:
        name: 'auto' (S3FD when ``s3fd_weights`` is given, else yuface if installed, else
            Haar), 's3fd', 'yunet' or 'haar'.
        s3fd_weights: path to ``sfd_face.pth``. For ``name='s3fd'`` without it, the file
            fetched by ``voxrepro weights fetch`` into the default cache is used.
        device: S3FD only: 'auto', 'cpu' or 'cuda[:N]'.
        batch_size: S3FD only: frames per forward pass.
        scale: S3FD only: input resize factor (spec §4.2 default 0.25).
        fp16: S3FD on CUDA only: float16 autocast (faster; not the reference numbers).
        tf32: S3FD on CUDA only: allow TF32 convolutions (faster; not the reference numbers).

    Raises:
        InvalidInputError: unknown name or device.
        ModelError: S3FD without a usable weights file, or yuface asked for but missing.
    """
    chosen = str(name)
    if chosen == DetectorName.AUTO:
        if s3fd_weights is not None:
            chosen = DetectorName.S3FD.value
        elif yuface_available():
            chosen = DetectorName.YUNET.value
        else:
            chosen = DetectorName.HAAR.value
        log.info("detector auto -> %s", chosen)
    cls = detector_class(chosen)
    if chosen == DetectorName.S3FD:
        if s3fd_weights is None:
            from voxrepro.weights import WeightsKind, cached_weights

            s3fd_weights = cached_weights(WeightsKind.S3FD)
            if s3fd_weights is None:
                raise ModelError(
                    "S3FD needs sfd_face.pth: pass its path or run `voxrepro weights fetch`"
                )
        return cls(  # type: ignore[call-arg]
            weights=s3fd_weights,
            device=device,
            batch_size=batch_size,
            scale=scale,
            fp16=fp16,
            tf32=tf32,
        )
    return cls()


__all__ = [
    "DETECTORS",
    "FINAL_NMS_IOU",
    "BgrFrame",
    "Detections",
    "Detector",
    "DetectorName",
    "available_detectors",
    "detector_class",
    "empty_detections",
    "make_detector",
    "yuface_available",
]
