"""Type aliases shared across modules (units are part of the name on purpose)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TypeAlias

import numpy as np
import numpy.typing as npt

Pathlike: TypeAlias = str | os.PathLike[str]
Seconds: TypeAlias = float
#: 0-based frame index on the 25 fps timeline (frame k = k-th frame of ``ffmpeg -i SRC -r 25``).
FrameIndex: TypeAlias = int
#: (N,) int64 array of 25 fps frame indices.
FrameArray: TypeAlias = npt.NDArray[np.int64]
#: (N, 4) float64 array of x, y, w, h boxes (normalised or pixels, see ``Segment.box_units``).
BoxArray: TypeAlias = npt.NDArray[np.float64]
#: Called with the number of items just finished; used to drive progress bars from the CLI.
ProgressFn: TypeAlias = Callable[[int], None]

TIMELINE_FPS = 25
AUDIO_RATE = 16_000
SAMPLES_PER_FRAME = AUDIO_RATE // TIMELINE_FPS  # 640
