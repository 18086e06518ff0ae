"""CelebV-HQ clip list (``celebvhq_info.json``).

Source: https://github.com/CelebV-HQ/CelebV-HQ (non-commercial research licence). One JSON
object ``{"meta_info": {...}, "clips": {"<ytid>_<k>": {"ytb_id", "duration": {"start_sec",
"end_sec"}, "bbox": {"top", "bottom", "left", "right"}, "attributes", "version"}}}``; times in
seconds, bbox normalised to the source frame, one box for the whole clip.

Mapping to a Segment:

- frames: every 25 fps frame whose start time k/25 lies in [start_sec, end_sec), i.e.
  ``ceil(start*25)`` to ``ceil(end*25) - 1`` (with a 1e-6 frame tolerance for float noise). This
  is the frame set ``ffmpeg -ss start -to end`` keeps on the 25 fps timeline.
- boxes: the clip's bbox as x=left, y=top, w=right-left, h=bottom-top (normalised), repeated on
  every frame. The raw seconds, bbox, attributes and version stay in ``extra``.
- identity: the JSON has no identity labels, so the source video (clip id prefix = ``ytb_id``)
  stands in for it (``extra["identity_is_proxy"]`` is True); reference: ``ytb_id``; utterance:
  the clip id.

The file is one JSON document, so it is parsed whole (tens of MB for the 35,666 clips); the
Segments are still built and yielded one at a time.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from voxrepro.formats.checks import add_validation_problems, check_boxes
from voxrepro.formats.source import SourceFile, iter_source_files
from voxrepro.safety import is_youtube_id
from voxrepro.segment import BoxUnits, Problem, Segment
from voxrepro.types import TIMELINE_FPS, Pathlike, ProgressFn

NAME = "celebvhq"
_EPS_FRAMES = 1e-6
_BBOX_KEYS = ("top", "bottom", "left", "right")

logger = logging.getLogger("voxrepro")


def seconds_to_frames(start_sec: float, end_sec: float) -> np.ndarray:
    """25 fps frame indices whose start time lies in [start_sec, end_sec) (may be empty)."""
    first = math.ceil(start_sec * TIMELINE_FPS - _EPS_FRAMES)
    stop = math.ceil(end_sec * TIMELINE_FPS - _EPS_FRAMES)
    return np.arange(first, max(stop, first), dtype=np.int64)


class _KeyLines:
    """1-based line of each clip key, found by scanning the text forward once."""

    def __init__(self, text: str) -> None:
        self._text, self._pos, self._line = text, 0, 1

    def line_of(self, key: str) -> int | None:
        found = self._text.find(json.dumps(key), self._pos)
        if found < 0:
            return None
        self._line += self._text.count("\n", self._pos, found)
        self._pos = found
        return self._line


def _number(mapping: Any, key: str) -> float:
    value = mapping[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{key} is {value!r}, not a number")
    if not math.isfinite(value):
        raise ValueError(f"{key} is {value!r}")
    return float(value)


def _clip_segment(
    clip_id: str, clip: Any, display: str, line: int | None, problems: list[Problem]
) -> Segment | None:
    def report(message: str) -> None:
        problems.append(Problem(display, line, f"clip {clip_id!r}: {message}"))

    try:
        ytb_id = clip["ytb_id"]
        start, end = _number(clip["duration"], "start_sec"), _number(clip["duration"], "end_sec")
        top, bottom, left, right = (_number(clip["bbox"], key) for key in _BBOX_KEYS)
    except KeyError as error:
        report(f"missing field {error.args[0]!r}")
        return None
    except (TypeError, ValueError) as error:
        report(f"bad field ({error})")
        return None
    if not isinstance(ytb_id, str) or not is_youtube_id(ytb_id):
        report(f"ytb_id {ytb_id!r} is not a valid YouTube id")
        return None
    if clip_id.rsplit("_", 1)[0] != ytb_id:
        report(f"clip id does not start with its ytb_id {ytb_id!r}")
    frames = seconds_to_frames(start, end)
    if start < 0 or frames.size == 0:
        report(f"bad time span [{start}, {end}) s ({frames.size} frames at 25 fps)")
        return None
    box = np.array([[left, top, right - left, bottom - top]], dtype=np.float64)
    check_boxes(box, np.array([line or 0]), BoxUnits.NORMALISED, None, display, problems)
    segment = Segment(
        identity=ytb_id,
        reference=ytb_id,
        utterance=clip_id,
        frames=frames,
        boxes=np.repeat(box, frames.size, axis=0),
        box_units=BoxUnits.NORMALISED,
        dataset=NAME,
        source_file=display,
        source_line=line,
        extra={
            "clip_id": clip_id,
            "start_sec": start,
            "end_sec": end,
            "bbox": {key: clip["bbox"][key] for key in _BBOX_KEYS},
            "attributes": clip.get("attributes"),
            "version": clip.get("version"),
            "identity_is_proxy": True,
        },
    )
    add_validation_problems(segment, problems)
    return segment


def _read_json(
    source: SourceFile, problems: list[Problem], progress: ProgressFn | None
) -> Iterator[Segment]:
    display = source.display
    if source.error is not None:
        problems.append(Problem(display, None, source.error))
        return
    text = source.data.decode("utf-8", errors="replace")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        problems.append(Problem(display, error.lineno, f"invalid JSON: {error.msg}"))
        return
    clips = document.get("clips") if isinstance(document, dict) else None
    if not isinstance(clips, dict):
        problems.append(Problem(display, None, 'no "clips" object: not a CelebV-HQ info file'))
        return
    lines = _KeyLines(text)
    for clip_id, clip in clips.items():
        segment = _clip_segment(clip_id, clip, display, lines.line_of(clip_id), problems)
        if progress is not None:
            progress(1)
        if segment is not None:
            yield segment


def read_celebvhq(
    path: Pathlike,
    problems: list[Problem] | None = None,
    progress: ProgressFn | None = None,
) -> Iterator[Segment]:
    """Stream one Segment per CelebV-HQ clip from ``celebvhq_info.json`` (or a folder/zip of it).

    Args:
        path: the JSON file, or a folder or ``.zip`` holding ``.json`` files.
        problems: problems are appended here (never raised); logged when None.
        progress: called with 1 after each clip.

    Raises:
        FormatError: ``path`` is missing or an unreadable zip.
    """
    sink: list[Problem] = problems if problems is not None else []
    for source in iter_source_files(path, (".json",)):
        for segment in _read_json(source, sink, progress):
            if problems is None:
                _log_and_clear(sink)
            yield segment
        if problems is None:
            _log_and_clear(sink)


def _log_and_clear(sink: list[Problem]) -> None:
    for problem in sink:
        logger.warning("%s", problem)
    sink.clear()
