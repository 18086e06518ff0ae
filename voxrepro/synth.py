"""Synthetic test and demo media: frames that carry their own index, tones, whole sources.

Each synthetic frame shows a 4 x 4 grid of black/white cells (a 16-bit barcode of the source
frame index, most significant bit top-left) inside a chosen square region, over a moving
background. Cells are large and pure black or white, so the index survives H.264, a crop that
covers the region and a resize to 224 x 224; :func:`read_barcode` samples only the middle of each
cell and refuses (returns None) when a cell is not clearly black or white. That lets tests check
frame-exact timing end to end: decode an output, read each frame's index, compare.

Pixel content only: encoding goes through :class:`voxrepro.media.VideoWriter`.
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import numpy as np
import numpy.typing as npt

from voxrepro.media import VideoWriter
from voxrepro.types import Pathlike

#: Barcode grid: GRID x GRID cells, one bit each.
BARCODE_GRID = 4
BARCODE_BITS = BARCODE_GRID * BARCODE_GRID
#: A cell whose mean grey level lies strictly between these is unreadable.
_DARK_MAX = 80
_LIGHT_MIN = 175

Region = tuple[int, int, int]  # x, y (top-left corner, pixels) and side of the barcode square
BgrImage = npt.NDArray[np.uint8]


def _cell_edges(side: int) -> npt.NDArray[np.int64]:
    return np.round(np.linspace(0, side, BARCODE_GRID + 1)).astype(np.int64)


def draw_barcode(image: BgrImage, index: int, region: Region) -> None:
    """Draw ``index`` (mod 2**16) as a 4 x 4 black/white grid into ``image`` in place.

    Args:
        image: HxWx3 uint8 BGR image.
        index: value to encode (the source frame index).
        region: ``(x, y, side)`` of the square barcode area, in pixels; must lie inside the image.
    """
    x, y, side = region
    height, width = image.shape[:2]
    if side < BARCODE_GRID or x < 0 or y < 0 or x + side > width or y + side > height:
        raise ValueError(f"barcode region {region} does not fit a {width}x{height} image")
    edges = _cell_edges(side)
    value = index % (1 << BARCODE_BITS)
    for bit in range(BARCODE_BITS):
        row, col = divmod(bit, BARCODE_GRID)
        on = (value >> (BARCODE_BITS - 1 - bit)) & 1
        image[y + edges[row] : y + edges[row + 1], x + edges[col] : x + edges[col + 1]] = (
            255 if on else 0
        )


def read_barcode(image: npt.NDArray[np.uint8], region: Region | None = None) -> int | None:
    """Read the index drawn by :func:`draw_barcode`.

    Args:
        image: HxW (grey) or HxWx3 (BGR) uint8 image.
        region: ``(x, y, side)`` of the barcode; None means the barcode fills the whole image
            (after a crop covering exactly the region, whatever the resize).

    Returns:
        The index, or None when any cell is not clearly black or white.
    """
    if region is not None:
        # Work on the barcode's square only: averaging the whole frame's channels first made
        # this cost ~13 ms on a 720p frame.
        x, y, side = region
        image = image[y : y + side, x : x + side]
    grey = image if image.ndim == 2 else image.mean(axis=2)
    means = cell_means(grey)
    if means is None or np.any((means > _DARK_MAX) & (means < _LIGHT_MIN)):
        return None
    value = 0
    for mean in means:
        value = (value << 1) | int(mean >= _LIGHT_MIN)
    return value


def cell_means(grey: npt.NDArray[np.floating | np.uint8]) -> npt.NDArray[np.float64] | None:
    """Mean of the middle half of each barcode cell, in bit order (None: a cell is empty).

    Only the middle half is sampled: edges blur under compression and resizing.
    """
    height, width = grey.shape[:2]
    step = 4 * BARCODE_GRID
    if height % step == 0 and width % step == 0:
        # Whole quarter-cells: the same middle halves, averaged in one call (the benchmark's
        # oracle reads every frame's barcode, and the loop cost 0.2 ms a frame).
        h, w = height // step, width // step
        cells = grey.reshape(BARCODE_GRID, 4 * h, BARCODE_GRID, 4 * w)[:, h : 3 * h, :, w : 3 * w]
        return np.asarray(cells.mean(axis=(1, 3)), dtype=np.float64).ravel()
    return _cell_means_loop(grey)


def _cell_means_loop(grey: npt.NDArray[np.floating | np.uint8]) -> npt.NDArray[np.float64] | None:
    height, width = grey.shape[:2]
    ys = np.linspace(0, height, BARCODE_GRID + 1)
    xs = np.linspace(0, width, BARCODE_GRID + 1)
    means = np.empty(BARCODE_BITS)
    for bit in range(BARCODE_BITS):
        row, col = divmod(bit, BARCODE_GRID)
        y0, y1 = ys[row], ys[row + 1]
        x0, x1 = xs[col], xs[col + 1]
        qy, qx = (y1 - y0) / 4, (x1 - x0) / 4
        cell = grey[round(y0 + qy) : round(y1 - qy), round(x0 + qx) : round(x1 - qx)]
        if cell.size == 0:
            return None
        means[bit] = float(cell.mean())
    return means


def _paint_background(diagonal: npt.NDArray[np.int64], index: int) -> BgrImage:
    # A smooth diagonal colour ramp shifted 4 px per frame: consecutive frames differ (as real
    # video does) but stay cheap to encode, and no channel reaches pure black or white.
    ramp = ((diagonal + 4 * index) % 256).astype(np.float32)
    image = np.empty((*diagonal.shape, 3), dtype=np.uint8)
    image[..., 0] = (60 + ramp * 0.5).astype(np.uint8)
    image[..., 1] = (90 + (255 - ramp) * 0.3).astype(np.uint8)
    image[..., 2] = (70 + ((ramp * 2) % 256) * 0.35).astype(np.uint8)
    return image


def _diagonal(width: int, height: int) -> npt.NDArray[np.int64]:
    ys, xs = np.mgrid[0:height, 0:width]
    return (xs + ys).astype(np.int64)


def make_frame(index: int, width: int, height: int, region: Region | None) -> BgrImage:
    """A BGR frame: a background that moves with ``index`` plus the barcode in ``region``."""
    image = _paint_background(_diagonal(width, height), index)
    if region is not None:
        draw_barcode(image, index, region)
    return image


def make_tone(
    seconds: float, rate: int = 16_000, frequency: float = 440.0, amplitude: float = 0.3
) -> npt.NDArray[np.int16]:
    """A mono int16 sine tone of ``round(seconds * rate)`` samples."""
    count = round(seconds * rate)
    t = np.arange(count, dtype=np.float64) / rate
    return np.round(np.sin(2 * np.pi * frequency * t) * amplitude * 32767).astype(np.int16)


def iter_frames(
    num_frames: int, width: int, height: int, region: Region | None
) -> Iterator[BgrImage]:
    """``make_frame`` for indices 0 .. num_frames - 1 (the coordinate grid is built once)."""
    diagonal = _diagonal(width, height)
    for index in range(num_frames):
        image = _paint_background(diagonal, index)
        if region is not None:
            draw_barcode(image, index, region)
        yield image


def write_synthetic_video(
    dest: Pathlike,
    *,
    num_frames: int,
    fps: Fraction | int | str = 25,
    width: int = 320,
    height: int = 240,
    region: Region | None = (16, 16, 128),
    audio_rate: int | None = 44_100,
    tone_hz: float = 440.0,
    video_start: float = 0.0,
    audio_start: float = 0.0,
    gop: int | None = None,
    crf: int = 18,
    preset: str = "veryfast",
) -> Path:
    """Write a barcode source video (H.264 + AAC; container from the suffix: .mp4/.mkv/...).

    Args:
        dest: output file (written in place: test fixtures, not pipeline outputs).
        num_frames: number of source frames; frame i carries barcode i.
        fps: source frame rate, e.g. 30, "30000/1001", Fraction(24).
        width, height: frame size in pixels (even numbers).
        region: barcode ``(x, y, side)`` in pixels, or None for no barcode.
        audio_rate: audio sample rate of a mono tone lasting as long as the video, or None for
            a file without audio.
        tone_hz: tone frequency.
        video_start, audio_start: first timestamp of each stream in seconds (a non-zero video
            start makes a source whose first frame is not at time 0).
        gop: keyframe interval in frames (None: libx264's default).
        crf, preset: libx264 quality and speed.

    Returns:
        The written path.
    """
    rate = Fraction(fps)
    audio = None
    if audio_rate is not None:
        audio = make_tone(num_frames / float(rate), audio_rate, tone_hz)
    with VideoWriter(
        dest,
        width=width,
        height=height,
        fps=rate,
        audio_rate=audio_rate,
        crf=crf,
        preset=preset,
        gop=gop,
        video_start=video_start,
        audio_start=audio_start,
    ) as writer:
        for image in iter_frames(num_frames, width, height, region):
            writer.write_frame(image)
        if audio is not None:
            writer.write_audio(audio)
    return Path(dest)
