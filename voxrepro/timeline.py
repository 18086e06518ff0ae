"""The 25 fps timeline: which source frame ``ffmpeg -i SRC -r 25`` puts on each output tick.

Pure arithmetic over timestamps, no I/O (``voxrepro.media`` feeds it decoded frames). It
replicates the constant-frame-rate conversion the ``ffmpeg`` command line applies when ``-r 25``
is an output option and the muxer wants constant frame rate (rawvideo, image2, mp4; ``fps_mode
cfr``): each decoded frame is emitted 0, 1 or more times, driven by the drift between its
timestamp and the next output tick. Thresholds (1.1 frames to drop or duplicate, 0.6 for
re-emitting the previous frame, the median of the last three re-emit counts at the end of the
stream) and the rounding (``av_rescale_q`` half away from zero, 16 extra bits of precision, a
1/2**17 nudge off exact midpoints, ``llrintf`` on a float) follow fftools' ``video_sync_process``
and ``adjust_frame_pts_to_encoder_tb``. Tests compare the result with the real binary frame by
frame (``tests/test_media_timeline.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from voxrepro.types import TIMELINE_FPS

#: |drift| in output frames beyond which a frame is dropped (< -1.1) or duplicated (> 1.1).
DROP_DUP_THRESHOLD = 1.1
#: The previous frame is re-emitted ``round(delta0 - 0.6)`` times when the gap before a frame
#: exceeds ``DROP_DUP_THRESHOLD``.
PREV_REPEAT_BIAS = 0.6
# fftools keeps up to 16 extra bits of the output time base when converting timestamps.
_MAX_EXTRA_BITS = 16


def rescale_near_inf(value: int, src: Fraction, dst: Fraction) -> int:
    """``av_rescale_q(value, src, dst)``: exact rational rescale, halves rounded away from zero."""
    exact = Fraction(value) * src / dst
    floor = exact.numerator // exact.denominator
    remainder = exact - floor
    if remainder > Fraction(1, 2) or (remainder == Fraction(1, 2) and exact > 0):
        return floor + 1
    return floor


def _llrint(value: float) -> int:
    # C's llrint in the default rounding mode: nearest, ties to even (Python's round()).
    return round(value)


def _llrintf(value: float) -> int:
    # llrintf takes a float: the double argument is narrowed to single precision first.
    return round(float(np.float32(value)))


def _mid_pred(a: int, b: int, c: int) -> int:
    return sorted((a, b, c))[1]


def _av_log2(value: int) -> int:
    return value.bit_length() - 1


@dataclass(slots=True)
class CfrSelector:
    """Streaming replica of ffmpeg's CFR output frame-rate conversion.

    Feed every decoded frame in presentation order with :meth:`push` (its timestamp relative to
    the input file's start time, as ffmpeg shifts it, and its duration), then call :meth:`flush`
    once at end of stream. Output frame ``k`` of ``ffmpeg -r 25`` is the ``k``-th frame emitted.

    Attributes:
        rate: output frame rate (25 for the project's timeline).
        next_index: index of the next output frame (number emitted so far).
    """

    rate: Fraction = Fraction(TIMELINE_FPS)
    next_index: int = 0
    _prev_repeat_history: list[int] = field(default_factory=lambda: [0, 0, 0])

    @property
    def out_time_base(self) -> Fraction:
        return 1 / self.rate

    def sync_position(self, pts: int, time_base: Fraction) -> float:
        """A timestamp in output frames (float), exactly as fftools computes it."""
        tb_out = self.out_time_base
        extra_bits = min(max(29 - _av_log2(tb_out.denominator), 0), _MAX_EXTRA_BITS)
        fine_tb = Fraction(tb_out.numerator, tb_out.denominator << extra_bits)
        position = float(rescale_near_inf(pts, time_base, fine_tb)) / (1 << extra_bits)
        if position != _llrint(position):
            # fftools nudges non-integers off exact midpoints to avoid rounding ties.
            position += (1.0 if position > 0 else -1.0) / (1 << 17)
        return position

    def push(self, pts: int, duration: int, time_base: Fraction) -> tuple[int, int]:
        """Account for one decoded frame.

        Args:
            pts: presentation timestamp in ``time_base`` units, relative to the file start.
            duration: frame duration in ``time_base`` units (0 if unknown).
            time_base: seconds per timestamp unit.

        Returns:
            ``(previous_repeats, current_repeats)``: first emit the *previous* frame
            ``previous_repeats`` times, then this frame ``current_repeats`` times.
        """
        tb_out = self.out_time_base
        frame_duration = float(duration) * float(time_base) / float(tb_out)
        position = self.sync_position(pts, time_base)
        delta0 = position - self.next_index  # drift of this frame against the next output tick
        delta = delta0 + frame_duration
        total, previous = 1, 0
        if delta0 < 0 < delta:
            # The frame starts before the next tick but lasts past it: clip it to the tick.
            frame_duration += delta0
            delta0 = 0.0
        if delta < -DROP_DUP_THRESHOLD:
            total = 0
        elif delta > DROP_DUP_THRESHOLD:
            total = _llrintf(delta)
            if delta0 > DROP_DUP_THRESHOLD:
                previous = _llrint(delta0 - PREV_REPEAT_BIAS)
        previous = min(previous, total)
        self._remember(previous)
        self.next_index += total
        return previous, total - previous

    def flush(self) -> int:
        """At end of stream: how many extra copies of the last frame ffmpeg emits."""
        extra = _mid_pred(*self._prev_repeat_history)
        self._remember(extra)
        self.next_index += extra
        return extra

    def _remember(self, previous: int) -> None:
        self._prev_repeat_history = [previous, *self._prev_repeat_history[:2]]
