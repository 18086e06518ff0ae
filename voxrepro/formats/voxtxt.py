"""Parser for the VoxCeleb-style utterance txt shared by VoxCeleb1, VoxCeleb2 and MAV-Celeb.

Layout (``../shared/docs/metafile-formats.md``; spec §10.1)::

    Identity  : \\tid00012                      line 1
    Reference : \\t_raOc3-IRsw                  line 2
    Offset    : \\t2                            line 3
    FV Conf   : \\t20.230\\t(1)                  line 4 ("(1)" only in VoxCeleb2)
    ASD Conf  : \\t2.765                        line 5
                                               line 6 (blank)
    FRAME \\tX \\tY \\tW \\tH                       line 7
    000349 \\t0.319 \\t0.067 \\t0.424 \\t0.753      line 8 onwards, one row per 25 fps frame

Two paths: a fast one (one regex over the row block proves the canonical layout, then one numpy
call converts every number) and a careful line-by-line one, taken only when the fast one sees
anything unusual, which names the exact line of every problem.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from voxrepro.formats.checks import add_validation_problems, check_boxes, check_frames
from voxrepro.formats.source import SourceFile, iter_source_files
from voxrepro.formats.voxtxt_careful import parse_txt_careful
from voxrepro.formats.voxtxt_fixed import decode_fixed_rows
from voxrepro.formats.voxtxt_layout import (
    ASD_CONF,
    CANONICAL_ROWS,
    COLUMN_BYTES,
    FIRST_ROW_LINE,
    FV_CONF,
    HEADER_LABELS,
    HEADER_PREFIXES,
    IDENTITY,
    OFFSET,
    RAW_HEADER_KEY,
    REFERENCE,
    ParsedTxt,
    PathFields,
    PathResolver,
    parse_conf,
    parse_offset,
)
from voxrepro.safety import is_youtube_id
from voxrepro.segment import BoxUnits, Problem, Segment
from voxrepro.types import Pathlike, ProgressFn

logger = logging.getLogger("voxrepro")


def parse_txt_fast(data: bytes) -> ParsedTxt | None:
    """Parse a file in exactly the published layout; None when anything differs."""
    chunks = data.split(b"\n", 7)
    if len(chunks) != 8 or chunks[5] != b"" or chunks[6] != COLUMN_BYTES:
        return None
    header: dict[str, tuple[str, int]] = {}
    for index, (label, prefix) in enumerate(zip(HEADER_LABELS, HEADER_PREFIXES, strict=True)):
        line = chunks[index]
        if not line.startswith(prefix):
            return None
        try:
            header[label] = (line[len(prefix) :].decode("utf-8"), index + 1)
        except UnicodeDecodeError:
            return None
    rows = chunks[7]
    fixed = decode_fixed_rows(rows)
    if fixed is not None:
        frames, boxes = fixed
        decimal = True
    else:
        if not CANONICAL_ROWS.fullmatch(rows):
            return None
        try:
            values = np.fromstring(rows, dtype=np.float64, sep=" ")
        except ValueError:  # a token like "1.2.3" or "--1"
            return None
        if values.size != 5 * rows.count(b"\n"):
            return None
        table = values.reshape(-1, 5)
        frames = table[:, 0].astype(np.int64)  # 6 digits by the regex: exact integers
        boxes = np.ascontiguousarray(table[:, 1:])
        decimal = b"." in rows
    return ParsedTxt(
        header=header,
        frames=frames,
        boxes=boxes,
        row_lines=np.arange(FIRST_ROW_LINE, FIRST_ROW_LINE + frames.size),
        decimal=decimal,
    )


def parse_txt(
    source: SourceFile,
    dataset: str,
    units: BoxUnits | None,
    resolve_path: PathResolver,
    problems: list[Problem],
    box_resolution: tuple[int, int] | None = None,
) -> Segment | None:
    """Turn one txt into a Segment, appending every problem found; None if too broken.

    Args:
        source: the file (bytes and where it came from).
        dataset: ``Segment.dataset`` value.
        units: the box units of this format, or None to detect (decimal point => normalised).
        resolve_path: maps (path components, header identity) to what the path says.
        problems: where problems are appended.
        box_resolution: (width, height) in pixels that pixel boxes refer to, if known.
    """
    display = source.display
    if source.error is not None:
        problems.append(Problem(display, None, source.error))
        return None
    if not source.data.strip():
        problems.append(Problem(display, None, "empty file"))
        return None
    parsed = parse_txt_fast(source.data) or parse_txt_careful(source.data, display, problems)
    if parsed is None:
        return None
    header_identity = parsed.header.get(IDENTITY, (None, 0))[0]
    fields = resolve_path(source.parts, header_identity, display)
    values = _header_values(parsed.header, fields, display, problems)
    box_units = units or (BoxUnits.NORMALISED if parsed.decimal else BoxUnits.PIXELS)
    check_frames(parsed.frames, parsed.row_lines, display, problems)
    check_boxes(parsed.boxes, parsed.row_lines, box_units, box_resolution, display, problems)
    extra: dict[str, object] = {
        RAW_HEADER_KEY: {
            label: parsed.header[label][0]
            for label in (OFFSET, FV_CONF, ASD_CONF)
            if label in parsed.header
        }
    }
    if box_units is BoxUnits.PIXELS:
        extra["box_resolution"] = box_resolution
    if fields.language is not None:
        extra["language"] = fields.language
    segment = Segment(
        identity=values.identity,
        reference=values.reference,
        utterance=fields.utterance,
        frames=parsed.frames,
        boxes=parsed.boxes,
        box_units=box_units,
        offset=values.offset,
        fv_conf=values.fv_conf,
        asd_conf=values.asd_conf,
        dataset=dataset,
        source_file=display,
        source_line=1,
        extra=extra,
    )
    add_validation_problems(segment, problems)
    return segment


@dataclass(frozen=True, slots=True)
class _HeaderValues:
    identity: str
    reference: str
    offset: int | None
    fv_conf: float | None
    asd_conf: float | None


def _header_values(
    header: dict[str, tuple[str, int]], fields: PathFields, display: str, problems: list[Problem]
) -> _HeaderValues:
    """Header values, cross-checked with the path; the header wins, the path fills gaps."""
    names = {}
    for label, from_path in ((IDENTITY, fields.identity), (REFERENCE, fields.reference)):
        value, line = header.get(label, ("", HEADER_LABELS.index(label) + 1))
        if label in header and not value:
            problems.append(Problem(display, line, f"empty {label} value"))
        if value and from_path is not None and value != from_path:
            problems.append(
                Problem(
                    display, line, f"header {label} {value!r} does not match the path {from_path!r}"
                )
            )
        names[label] = value or from_path or "unknown"
    reference = names[REFERENCE]
    if reference != "unknown" and not is_youtube_id(reference):
        line = header.get(REFERENCE, ("", 2))[1]
        problems.append(
            Problem(display, line, f"Reference {reference!r} is not a valid YouTube id")
        )
    return _HeaderValues(
        identity=names[IDENTITY],
        reference=reference,
        offset=_header_number(header, OFFSET, parse_offset, display, problems),
        fv_conf=_header_number(header, FV_CONF, parse_conf, display, problems),
        asd_conf=_header_number(header, ASD_CONF, parse_conf, display, problems),
    )


def _header_number(
    header: dict[str, tuple[str, int]],
    label: str,
    parse: Callable[[str], float | int | None],
    display: str,
    problems: list[Problem],
) -> float | int | None:
    if label not in header:
        return None  # already reported as a missing header line
    text, line = header[label]
    try:
        return parse(text)
    except (ValueError, IndexError):
        problems.append(Problem(display, line, f"non-numeric {label} value {text!r}"))
        return None


def utterance_of(parts: tuple[str, ...], display: str) -> str:
    """Utterance id from the file name (``00001.txt`` -> ``00001``)."""
    name = parts[-1] if parts else display.replace("\\", "/").rsplit("/", 1)[-1]
    return name[:-4] if name.lower().endswith(".txt") else name


def resolve_vox_path(
    parts: tuple[str, ...], header_identity: str | None, display: str
) -> PathFields:
    """``<identity>/<reference>/<utt>.txt`` below the root (any leading ``txt/`` ignored).

    A lone file (no components below a root) says nothing about identity or reference.
    """
    utterance = utterance_of(parts, display)
    if len(parts) >= 3:
        return PathFields(parts[-3], parts[-2], utterance)
    if len(parts) == 2:
        return PathFields(None, parts[-2], utterance)
    return PathFields(None, None, utterance)


def read_txt_tree(
    path: Pathlike,
    dataset: str,
    units: BoxUnits | None,
    resolve_path: PathResolver,
    problems: list[Problem] | None = None,
    progress: ProgressFn | None = None,
    box_resolution: tuple[int, int] | None = None,
) -> Iterator[Segment]:
    """Stream the Segments of every ``.txt`` under a folder, in a zip, or of one file.

    Args:
        path: folder tree, ``.zip`` archive (e.g. ``vox2_test_txt.zip`` holding ``txt/...``) or
            one ``.txt`` file.
        dataset: ``Segment.dataset`` value for every segment.
        units: box units of the format, or None to detect per file.
        resolve_path: what a file's place in the tree says (identity, reference, language).
        problems: problems are appended here; when None they are logged as warnings.
        progress: called with 1 after each file.
        box_resolution: (width, height) pixels that pixel boxes refer to, if known.

    Raises:
        FormatError: ``path`` is missing or is an unreadable zip (per-file issues are problems).
    """
    sink: list[Problem] = problems if problems is not None else []
    for source in iter_source_files(path, (".txt",)):
        segment = parse_txt(source, dataset, units, resolve_path, sink, box_resolution)
        if problems is None:
            for problem in sink:
                logger.warning("%s", problem)
            sink.clear()
        if progress is not None:
            progress(1)
        if segment is not None:
            yield segment
