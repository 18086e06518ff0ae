"""Writer for the VoxCeleb-style utterance txt, byte-identical to the published files.

Layout written (``voxtxt`` documents it): each header label padded to 10 characters, then
``": "`` and a tab; a blank line; the column line; one row per frame with every token followed by
a space before the tab or newline; frames as 6 digits; boxes with 3 decimals (normalised,
VoxCeleb2) or as integers (pixels, VoxCeleb1).

Header values read from a file are kept verbatim in ``extra["raw_header"]`` and written back
unchanged while they still equal the Segment's values (so "20.230\\t(1)" survives a round trip);
otherwise the values are formatted afresh. Values not known (None) are written as ``0`` for the
offset (no shift: what consumers that apply it should do) and ``nan`` for the confidences, which
the reader turns back into None.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from voxrepro.atomic import write_text_atomic
from voxrepro.errors import InvalidInputError
from voxrepro.formats.voxtxt_layout import (
    ASD_CONF,
    COLUMN_LINE,
    FV_CONF,
    HEADER_LABELS,
    IDENTITY,
    OFFSET,
    RAW_HEADER_KEY,
    REFERENCE,
    parse_conf,
    parse_offset,
)
from voxrepro.safety import safe_join, validate_component
from voxrepro.segment import BoxUnits, Segment
from voxrepro.types import Pathlike

#: Written for an unknown offset (None).
UNKNOWN_OFFSET_TEXT = "0"
#: Written for an unknown confidence (None); read back as None.
UNKNOWN_CONF_TEXT = "nan"
#: What VoxCeleb2 writes after the FV Conf value (meaning unknown, kept for parity).
VOX2_FV_SUFFIX = "\t(1)"


def _same(a: float | int | None, b: float | int | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return a == b or (math.isnan(a) and math.isnan(b))


def _header_text(
    raw: str | None,
    value: float | int | None,
    parse: Callable[[str], float | int | None],
    render: Callable[[float | int], str],
    unknown: str,
) -> str:
    """The raw text while it still means ``value``, else ``value`` formatted afresh."""
    if raw is not None:
        try:
            if _same(parse(raw), value):
                return raw
        except (ValueError, IndexError):
            pass
    return unknown if value is None else render(value)


def format_vox_txt(segment: Segment, *, units: BoxUnits, fv_suffix: str) -> str:
    """One utterance txt for ``segment`` (see the module docstring for what is written).

    Args:
        segment: boxes must be in ``units``; identity and reference must be safe path names.
        units: NORMALISED writes ``%.3f`` (VoxCeleb2); PIXELS writes integers (VoxCeleb1).
        fv_suffix: appended to a freshly formatted FV Conf (``"\\t(1)"`` for VoxCeleb2).

    Raises:
        InvalidInputError: wrong box units, bad shapes, or an identity/reference that would
            break the file (tabs, newlines, path separators).
    """
    where = segment.where()
    if segment.box_units is not units:
        raise InvalidInputError(
            f"{where}: boxes are {segment.box_units.value}, this writer needs {units.value}"
        )
    frames, boxes = segment.frames, segment.boxes
    if frames.ndim != 1 or boxes.shape != (frames.shape[0], 4) or frames.shape[0] == 0:
        raise InvalidInputError(f"{where}: need N>0 frames and (N, 4) boxes, got {boxes.shape}")
    validate_component(segment.identity, "identity", where)
    validate_component(segment.reference, "reference", where)
    raw: dict[str, str] = segment.extra.get(RAW_HEADER_KEY) or {}
    values = {
        IDENTITY: segment.identity,
        REFERENCE: segment.reference,
        OFFSET: _header_text(
            raw.get(OFFSET),
            segment.offset,
            parse_offset,
            lambda v: str(int(v)),
            UNKNOWN_OFFSET_TEXT,
        ),
        FV_CONF: _header_text(
            raw.get(FV_CONF),
            segment.fv_conf,
            parse_conf,
            lambda v: f"{v:.3f}{fv_suffix}",
            UNKNOWN_CONF_TEXT + fv_suffix,
        ),
        ASD_CONF: _header_text(
            raw.get(ASD_CONF), segment.asd_conf, parse_conf, lambda v: f"{v:.3f}", UNKNOWN_CONF_TEXT
        ),
    }
    lines = [f"{label:<10}: \t{values[label]}\n" for label in HEADER_LABELS]
    lines.append("\n")
    lines.append(COLUMN_LINE + "\n")
    if units is BoxUnits.NORMALISED:
        row = "{:06d} \t{:.3f} \t{:.3f} \t{:.3f} \t{:.3f} \n".format
        lines.extend(row(f, *b) for f, b in zip(frames.tolist(), boxes.tolist(), strict=True))
    else:
        row = "{:06d} \t{:d} \t{:d} \t{:d} \t{:d} \n".format
        pixels = boxes.round().astype("int64").tolist()
        lines.extend(row(f, *b) for f, b in zip(frames.tolist(), pixels, strict=True))
    return "".join(lines)


def tree_path(root: Pathlike, segment: Segment, language: str | None = None) -> Path:
    """``root/<identity>[/<language>]/<reference>/<utterance>.txt``, proven inside ``root``."""
    parts = [segment.identity, segment.reference, f"{segment.utterance}.txt"]
    if language is not None:
        parts.insert(1, language)
    return safe_join(root, *parts)


def write_txt_tree(
    segments: Iterable[Segment],
    root: Pathlike,
    formatter: Callable[[Segment], str],
    with_language: bool = False,
) -> Iterator[Path]:
    """Write one txt per segment under ``root`` atomically; yield each path once written.

    Raises:
        InvalidInputError: a segment has an unsafe id or cannot be formatted (nothing is
            written for it; segments before it are already on disk).
    """
    for segment in segments:
        language = None
        if with_language:
            language = segment.extra.get("language")
            if not language:
                raise InvalidInputError(f"{segment.where()}: no extra['language'] to write")
        dest = tree_path(root, segment, language)
        write_text_atomic(dest, formatter(segment))
        yield dest
