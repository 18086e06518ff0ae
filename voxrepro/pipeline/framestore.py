"""Frames of the current shot, kept until its tracks are known, with a bounded memory.

Tracks never cross shots (spec §6), so the pipeline only needs the full-resolution frames of one
shot at a time. Long single-shot interviews can exceed memory (10 min of 720p is 41 GB), so past
``max_bytes`` the frames spill, raw and lossless, into a temp file read back through a memmap.
"""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

import numpy as np
import numpy.typing as npt

Frame = npt.NDArray[np.uint8]


class ShotFrames:
    """Append-only store of same-sized BGR frames, indexed from 0 within the shot."""

    def __init__(self, max_bytes: int, spill_dir: Path | None = None) -> None:
        self._max_bytes = max_bytes
        self._spill_dir = spill_dir
        self._frames: list[Frame] = []
        self._file: tempfile._TemporaryFileWrapper[bytes] | None = None
        self._spilled = 0
        self._shape: tuple[int, ...] | None = None
        self._memmap: np.memmap | None = None

    def __len__(self) -> int:
        return len(self._frames) + self._spilled

    @property
    def spilled(self) -> bool:
        return self._file is not None

    def append(self, frame: Frame) -> None:
        if self._shape is None:
            self._shape = frame.shape
        elif frame.shape != self._shape:
            raise ValueError(f"frame size changed within a shot: {frame.shape} != {self._shape}")
        if self._file is None and (len(self._frames) + 1) * frame.nbytes > self._max_bytes:
            self._file = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed in clear())
                prefix=".tmp-shot-", suffix=".raw", dir=self._spill_dir
            )
        if self._file is not None:
            self._file.write(np.ascontiguousarray(frame).tobytes())
            self._spilled += 1
            self._memmap = None
        else:
            # Own the pixels: the decoder may reuse a buffer for the next frame.
            self._frames.append(frame)

    def __getitem__(self, index: int) -> Frame:
        in_memory = len(self._frames)
        if index < in_memory:
            return self._frames[index]
        if self._file is None or self._shape is None or index >= len(self):
            raise IndexError(index)
        if self._memmap is None:
            self._file.flush()
            self._memmap = np.memmap(
                self._file.name, dtype=np.uint8, mode="r", shape=(self._spilled, *self._shape)
            )
        return np.asarray(self._memmap[index - in_memory])

    def clear(self) -> None:
        self._frames = []
        self._memmap = None
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.close()
            self._file = None
        self._spilled = 0
        self._shape = None


def default_spill_dir(out_root: Path) -> Path:
    """Spill next to the outputs (same disk the user chose), in a hidden work folder."""
    path = out_root / ".work"
    path.mkdir(parents=True, exist_ok=True)
    return path


__all__ = ["ShotFrames", "default_spill_dir"]
