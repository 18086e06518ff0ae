"""Recrop planning: settings, output paths, source lookup and crop windows (no decoding).

Spec §10: the published box is the crop window (``vox2`` mode, shifted back inside the frame,
never padded) or the centre of a padded square (``centred`` mode); CelebV-HQ clips use the
dataset's own rule. Boxes in pixels (VoxCeleb1) refer to a resolution the files do not state:
unless told otherwise we assume a frame **360 pixels high** with the source's aspect ratio (the
assumption of the FOMM and STELA croppers), i.e. boxes are scaled by ``source_height / 360``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from voxrepro import crop
from voxrepro.errors import InvalidInputError
from voxrepro.safety import safe_join, validate_component
from voxrepro.segment import BoxUnits, Segment
from voxrepro.types import Pathlike

#: Source file suffixes looked up under ``--videos``, in order (as ``download`` saves them).
VIDEO_SUFFIXES = (".mp4", ".mkv", ".webm")
#: Default assumed height of the frame that pixel boxes refer to (see the module notes).
DEFAULT_BOX_REFERENCE_HEIGHT = 360
CELEBVHQ = "celebvhq"
DEFAULT_SIZE = 224
CELEBVHQ_SIZE = 512


class CropMode(enum.StrEnum):
    """How a published box becomes a crop window."""

    VOX2 = "vox2"  # the box is the window, shifted inside the frame, clamped if larger
    CENTRED = "centred"  # square of side max(w, h) on the box centre, padded with grey 110


@dataclass(frozen=True, slots=True)
class RecropSettings:
    """Everything a worker needs besides the segments (picklable for process pools).

    Attributes:
        videos: folder holding ``<reference>.<mp4|mkv|webm>``.
        out: output root.
        mode: crop rule for Vox1/Vox2/MAV-Celeb (CelebV-HQ always uses its own).
        size: output side in pixels, or None for the dataset default (224; CelebV-HQ 512).
        box_resolution: (width, height) pixel boxes refer to, or None for the 360-px default.
        decode_threads: FFmpeg decoder threads per source, 0 for FFmpeg's choice (one per
            core); ``run_recrop`` sets each worker's share of the cores when several run.
    """

    videos: Path
    out: Path
    mode: CropMode = CropMode.VOX2
    size: int | None = None
    box_resolution: tuple[int, int] | None = None
    decode_threads: int = 0

    def size_for(self, segment: Segment) -> int:
        if self.size is not None:
            return self.size
        return CELEBVHQ_SIZE if segment.dataset == CELEBVHQ else DEFAULT_SIZE


def describe_box_assumption(box_resolution: tuple[int, int] | None) -> str:
    """One sentence for the summary: what pixel boxes were assumed to refer to."""
    if box_resolution is not None:
        return f"pixel boxes refer to {box_resolution[0]}x{box_resolution[1]} (--resolution)"
    return (
        f"pixel boxes refer to a frame {DEFAULT_BOX_REFERENCE_HEIGHT} px high with the source's "
        f"aspect ratio (scaled by source height / {DEFAULT_BOX_REFERENCE_HEIGHT}); "
        "override with --resolution WxH"
    )


def clip_path(out: Pathlike, segment: Segment) -> Path:
    """``OUT/<identity>/<reference>/<utterance>.mp4`` (CelebV-HQ: ``OUT/<clip id>.mp4``).

    Raises:
        InvalidInputError: an id is unsafe as a path component.
    """
    where = segment.where()
    if segment.dataset == CELEBVHQ:
        validate_component(segment.utterance, "clip id", where)
        return safe_join(out, f"{segment.utterance}.mp4")
    validate_component(segment.identity, "identity", where)
    validate_component(segment.reference, "reference", where)
    validate_component(segment.utterance, "utterance", where)
    return safe_join(out, segment.identity, segment.reference, f"{segment.utterance}.mp4")


def find_source(videos: Pathlike, reference: str) -> Path | None:
    """The downloaded source ``VIDEOS/<reference>.<ext>``, or None when there is none.

    The reference is validated as one path component, so the lookup cannot leave ``videos``
    by name; a source that is a symlink (a shared download folder) is followed on purpose,
    which is why this is not :func:`voxrepro.safety.safe_join` (that resolves links).
    """
    validate_component(reference, "reference")
    for suffix in VIDEO_SUFFIXES:
        candidate = Path(videos) / f"{reference}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def pixel_boxes(
    segment: Segment, width: int, height: int, box_resolution: tuple[int, int] | None
) -> npt.NDArray[np.float64]:
    """The segment's boxes in pixels of the ``width`` x ``height`` source (x, y, w, h)."""
    if segment.box_units == BoxUnits.NORMALISED:
        return crop.normalised_to_pixels(segment.boxes, width, height)
    reference = box_resolution or segment.extra.get("box_resolution")
    if reference:
        ref_w, ref_h = (float(v) for v in reference)
        scale = np.array([width / ref_w, height / ref_h, width / ref_w, height / ref_h])
    else:
        factor = height / DEFAULT_BOX_REFERENCE_HEIGHT
        scale = np.full(4, factor)
    return segment.boxes * scale


def crop_windows(
    segment: Segment, settings: RecropSettings, width: int, height: int
) -> npt.NDArray[np.int64]:
    """(N, 4) int windows x1, y1, x2, y2 in source pixels, one per frame of ``segment``.

    Raises:
        InvalidInputError: the boxes cannot give a window (e.g. a degenerate CelebV-HQ box).
    """
    if segment.dataset == CELEBVHQ and "bbox" in segment.extra:
        bbox = segment.extra["bbox"]
        tblr = [bbox["top"], bbox["bottom"], bbox["left"], bbox["right"]]
        try:
            window = crop.celebvhq_window(tblr, width, height)
        except ValueError as error:
            raise InvalidInputError(f"{segment.where()}: {error}") from error
        return np.repeat(np.asarray([window], dtype=np.int64), segment.num_frames, axis=0)
    boxes = pixel_boxes(segment, width, height, settings.box_resolution)
    if settings.mode == CropMode.CENTRED:
        return crop.centred_windows(boxes)
    return crop.vox2_windows(boxes, width, height)
