"""A decoded frame placed on the 25 fps timeline, converted only as far as asked."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

BgrImage = npt.NDArray[np.uint8]


class TimelineFrame:
    """One decoded frame placed on the 25 fps timeline; converted to BGR only when asked.

    Attributes:
        index: 0-based frame index on the 25 fps timeline.
        width, height: frame size in pixels.
    """

    __slots__ = ("_bgr", "_frame", "_planes", "height", "index", "width")

    def __init__(self, index: int, frame: Any, cache: TimelineFrame | None = None) -> None:
        self.index = index
        self._frame = frame
        self.width = int(frame.width)
        self.height = int(frame.height)
        # Duplicated frames share the previous conversion.
        same = cache is not None and cache._frame is frame
        self._bgr: BgrImage | None = cache._bgr if same and cache else None
        self._planes: Planes | None = cache._planes if same and cache else None

    def _yuv_planes(self) -> Planes | None:
        """Zero-copy views of Y, U, V for 8-bit limited-range 4:2:0 frames with even sides.

        yuv420p (CPU decoders) has three planes; NV12 (NVDEC) interleaves U and V in one plane,
        seen here as two strided views, so both convert through the same I420 maths.
        """
        frame = self._frame
        if self._planes is None:
            if (
                frame.format.name not in ("yuv420p", "nv12")
                or frame.color_range == 2  # full (JPEG) range: OpenCV's I420 maths would be off
                or self.width % 2
                or self.height % 2
            ):
                return None
            views = [_plane_rows(plane) for plane in frame.planes]
            if frame.format.name == "nv12":
                chroma = views[1][:, : self.width]
                views = [views[0][:, : self.width], chroma[:, 0::2], chroma[:, 1::2]]
            else:
                widths = [plane.width for plane in frame.planes]
                views = [view[:, :width] for view, width in zip(views, widths, strict=True)]
            self._planes = (views[0], views[1], views[2])
        return self._planes

    @property
    def has_i420(self) -> bool:
        """Whether the frame is 8-bit limited-range 4:2:0 with even sides (see ``pack_i420``)."""
        return self._yuv_planes() is not None

    def pack_i420(self, out: npt.NDArray[np.uint8]) -> bool:
        """Copy Y, U, V into ``out`` (``(H * 3 / 2, W)`` uint8, OpenCV's I420 layout), unconverted.

        Returns False, writing nothing, for frames that are not 8-bit limited-range 4:2:0 with
        even sides (their BGR comes from FFmpeg's own conversion: see ``to_bgr``).
        """
        planes = self._yuv_planes()
        if planes is None or out.shape != (self.height * 3 // 2, self.width):
            return False
        _pack_i420(*planes, out=out)
        return True

    def to_grey(self) -> npt.NDArray[np.uint8]:
        """The luma plane Y (HxW uint8 copy, unconverted) for 4:2:0 frames, else grey from BGR."""
        frame = self._frame
        if frame.format.name in ("yuv420p", "yuvj420p", "nv12"):
            plane = frame.planes[0]
            return _plane_rows(plane)[:, : plane.width].copy()
        return cv2.cvtColor(self.to_bgr(), cv2.COLOR_BGR2GRAY)

    def to_bgr(self) -> BgrImage:
        """The whole frame as an HxWx3 uint8 BGR array (cached; do not modify it)."""
        if self._bgr is None:
            planes = self._yuv_planes()
            if planes is not None:
                self._bgr = cv2.cvtColor(_pack_i420(*planes), cv2.COLOR_YUV2BGR_I420)
            else:
                self._bgr = self._frame.to_ndarray(format="bgr24")
        return self._bgr

    def crop_bgr(self, x1: int, y1: int, x2: int, y2: int) -> BgrImage:
        """The pixels ``[y1:y2, x1:x2]`` (pixels, end exclusive, inside the frame) as BGR.

        Converts only the window (rounded out to even coordinates for the 2x2 chroma blocks),
        which gives exactly the pixels of ``to_bgr()[y1:y2, x1:x2]`` at a fraction of the cost.
        """
        _check_inside(x1, y1, x2, y2, self.width, self.height)
        planes = None if self._bgr is not None else self._yuv_planes()
        if planes is None:
            return self.to_bgr()[y1:y2, x1:x2]
        ex1, ey1 = x1 & ~1, y1 & ~1
        ex2, ey2 = x2 + (x2 & 1), y2 + (y2 & 1)  # even sides: never past the (even) frame size
        luma, u, v = planes
        cy, cx = slice(ey1 // 2, ey2 // 2), slice(ex1 // 2, ex2 // 2)
        packed = _pack_i420(luma[ey1:ey2, ex1:ex2], u[cy, cx], v[cy, cx])
        bgr = cv2.cvtColor(packed, cv2.COLOR_YUV2BGR_I420)
        return bgr[y1 - ey1 : y2 - ey1, x1 - ex1 : x2 - ex1]

    def crop_planes(self, x1: int, y1: int, x2: int, y2: int) -> Planes | None:
        """Unconverted Y, U, V of a window inside the frame, or None for non-yuv420p frames.

        Y is exactly ``[y1:y2, x1:x2]``; U and V cover it at half resolution (rounded out to
        whole chroma samples, so an odd edge moves the chroma by at most half a pixel). The
        arrays are views into the decoded frame: read them, do not keep them.
        """
        _check_inside(x1, y1, x2, y2, self.width, self.height)
        planes = self._yuv_planes()
        if planes is None:
            return None
        luma, u, v = planes
        cy, cx = slice(y1 // 2, (y2 + 1) // 2), slice(x1 // 2, (x2 + 1) // 2)
        return luma[y1:y2, x1:x2], u[cy, cx], v[cy, cx]


Planes = tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8], npt.NDArray[np.uint8]]


def _plane_rows(plane: Any) -> npt.NDArray[np.uint8]:
    """A plane's rows as a (height, line_size) view (padding columns included)."""
    rows = np.frombuffer(plane, dtype=np.uint8)[: plane.line_size * plane.height]
    return rows.reshape(plane.height, plane.line_size)


def _check_inside(x1: int, y1: int, x2: int, y2: int, width: int, height: int) -> None:
    if not (0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height):
        raise ValueError(f"window {(x1, y1, x2, y2)} not inside {width}x{height}")


def _pack_i420(
    luma: npt.NDArray[np.uint8],
    u: npt.NDArray[np.uint8],
    v: npt.NDArray[np.uint8],
    out: npt.NDArray[np.uint8] | None = None,
) -> npt.NDArray[np.uint8]:
    """One contiguous I420 buffer (OpenCV's layout) from planes of even size."""
    height, width = luma.shape
    packed = np.empty((height * 3 // 2, width), dtype=np.uint8) if out is None else out
    packed[:height] = luma
    chroma = packed[height:].reshape(2, height // 2, width // 2)
    chroma[0], chroma[1] = u, v
    return packed
