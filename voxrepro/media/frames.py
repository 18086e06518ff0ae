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

    __slots__ = ("_bgr", "_frame", "_yuv", "height", "index", "width")

    def __init__(self, index: int, frame: Any, cache: TimelineFrame | None = None) -> None:
        self.index = index
        self._frame = frame
        self.width = int(frame.width)
        self.height = int(frame.height)
        # Duplicated frames share the previous conversion.
        same = cache is not None and cache._frame is frame
        self._bgr: BgrImage | None = cache._bgr if same and cache else None
        self._yuv: npt.NDArray[np.uint8] | None = cache._yuv if same and cache else None

    def _fast_yuv(self) -> npt.NDArray[np.uint8] | None:
        frame = self._frame
        if frame.format.name != "yuv420p" or frame.color_range == 2:  # 2 = full (JPEG) range
            return None
        if self._yuv is None:
            self._yuv = frame.to_ndarray(format="yuv420p")
        return self._yuv

    def to_grey(self) -> npt.NDArray[np.uint8]:
        """The luma plane Y (HxW uint8, unconverted) for yuv420p frames, else grey from BGR."""
        if self._frame.format.name in ("yuv420p", "yuvj420p"):
            yuv = self._yuv if self._yuv is not None else self._frame.to_ndarray(format="yuv420p")
            return yuv[: self.height]
        return cv2.cvtColor(self.to_bgr(), cv2.COLOR_BGR2GRAY)

    def to_bgr(self) -> BgrImage:
        """The whole frame as an HxWx3 uint8 BGR array (cached; do not modify it)."""
        if self._bgr is None:
            yuv = self._fast_yuv()
            if yuv is not None and self.width % 2 == 0 and self.height % 2 == 0:
                self._bgr = cv2.cvtColor(yuv, cv2.COLOR_YUV2BGR_I420)
            else:
                self._bgr = self._frame.to_ndarray(format="bgr24")
        return self._bgr

    def crop_bgr(self, x1: int, y1: int, x2: int, y2: int) -> BgrImage:
        """The pixels ``[y1:y2, x1:x2]`` (pixels, end exclusive, inside the frame) as BGR.

        Converts only the window (rounded out to even coordinates for the 2x2 chroma blocks),
        which gives exactly the pixels of ``to_bgr()[y1:y2, x1:x2]`` at a fraction of the cost.
        """
        if not (0 <= x1 < x2 <= self.width and 0 <= y1 < y2 <= self.height):
            raise ValueError(f"window {(x1, y1, x2, y2)} not inside {self.width}x{self.height}")
        yuv = None if self._bgr is not None else self._fast_yuv()
        if yuv is None or self.width % 2 or self.height % 2:
            return self.to_bgr()[y1:y2, x1:x2]
        ex1, ey1 = x1 & ~1, y1 & ~1
        ex2, ey2 = min(x2 + (x2 & 1), self.width), min(y2 + (y2 & 1), self.height)
        h, w = self.height, self.width
        cw, ch = ex2 - ex1, ey2 - ey1
        luma = yuv[ey1:ey2, ex1:ex2]
        chroma = yuv[h:].reshape(2, h // 2, w // 2)[:, ey1 // 2 : ey2 // 2, ex1 // 2 : ex2 // 2]
        packed = np.empty((ch * 3 // 2, cw), dtype=np.uint8)
        packed[:ch] = luma
        packed[ch:].reshape(2, ch // 2, cw // 2)[:] = chroma
        bgr = cv2.cvtColor(packed, cv2.COLOR_YUV2BGR_I420)
        return bgr[y1 - ey1 : y2 - ey1, x1 - ex1 : x2 - ex1]

    def crop_planes(
        self, x1: int, y1: int, x2: int, y2: int
    ) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8], npt.NDArray[np.uint8]] | None:
        """Unconverted Y, U, V of a window inside the frame, or None for non-yuv420p frames.

        Y is exactly ``[y1:y2, x1:x2]``; U and V cover it at half resolution (rounded out to
        whole chroma samples, so an odd edge moves the chroma by at most half a pixel).
        """
        if not (0 <= x1 < x2 <= self.width and 0 <= y1 < y2 <= self.height):
            raise ValueError(f"window {(x1, y1, x2, y2)} not inside {self.width}x{self.height}")
        yuv = self._fast_yuv()
        if yuv is None or self.width % 2 or self.height % 2:
            return None
        h, w = self.height, self.width
        chroma = yuv[h:].reshape(2, h // 2, w // 2)
        cy1, cy2, cx1, cx2 = y1 // 2, (y2 + 1) // 2, x1 // 2, (x2 + 1) // 2
        return yuv[y1:y2, x1:x2], chroma[0, cy1:cy2, cx1:cx2], chroma[1, cy1:cy2, cx1:cx2]
