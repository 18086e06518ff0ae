"""Published metafile formats: a name -> reader registry, format detection and the entry points.

Every reader turns one published format into ``Segment`` objects, streamed one at a time from a
folder tree, the published zip, or a single file. Problems in the input are appended to a
``problems`` list as ``Problem(file, line, message)``, never raised: a file too broken to yield
a segment yields nothing and the stream goes on.

Formats: ``vox1`` (VoxCeleb1 txt, pixel boxes), ``vox2`` (VoxCeleb2 txt, normalised boxes),
``mavceleb`` (VoxCeleb-style txt with a language level), ``celebvhq`` (``celebvhq_info.json``).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from voxrepro.errors import FormatError, InvalidInputError
from voxrepro.formats.celebvhq import read_celebvhq
from voxrepro.formats.mavceleb import (
    format_mavceleb,
    has_language_level,
    read_mavceleb,
    write_mavceleb_tree,
)
from voxrepro.formats.references import read_references
from voxrepro.formats.source import count_source_files, first_source_files, iter_source_files
from voxrepro.formats.vox1 import format_vox1, read_vox1, write_vox1_tree
from voxrepro.formats.vox2 import format_vox2, read_vox2, write_vox2_tree
from voxrepro.formats.voxtxt import resolve_vox_path
from voxrepro.formats.voxtxt_careful import parse_txt_careful
from voxrepro.formats.voxtxt_layout import IDENTITY
from voxrepro.formats.voxtxt_write import format_vox_txt
from voxrepro.segment import Problem, Segment
from voxrepro.types import Pathlike

VOX1, VOX2, MAVCELEB, CELEBVHQ = "vox1", "vox2", "mavceleb", "celebvhq"
AUTO = "auto"

Reader = Callable[..., Iterator[Segment]]
#: Format name -> reader. Every reader takes (path, problems=None, progress=None, **options).
READERS: dict[str, Reader] = {
    VOX1: read_vox1,
    VOX2: read_vox2,
    MAVCELEB: read_mavceleb,
    CELEBVHQ: read_celebvhq,
}
#: Format name -> single-file formatter (txt formats only).
FORMATTERS: dict[str, Callable[[Segment], str]] = {
    VOX1: format_vox1,
    VOX2: format_vox2,
    MAVCELEB: format_mavceleb,
}
FORMAT_NAMES = tuple(READERS)
#: Files of each kind sampled by ``detect_format``.
_DETECT_SAMPLE = 5


def _require_path(path: Pathlike) -> Path:
    p = Path(path)
    if not p.exists():
        raise FormatError(f"{p}: no such file or folder")
    return p


def detect_format(path: Pathlike) -> str:
    """Tell which published format ``path`` (folder, zip or file) holds.

    Rules, on the first few metafiles: a ``.json`` with no ``.txt`` is CelebV-HQ; a txt tree
    with a language level (``<identity>/<language>/<reference>/<utt>.txt``) is MAV-Celeb;
    otherwise decimal boxes mean VoxCeleb2 and integer boxes VoxCeleb1.

    Raises:
        FormatError: the path is missing, unreadable, or holds nothing recognisable.
    """
    p = _require_path(path)
    if p.is_file() and p.suffix.lower() == ".json":
        return CELEBVHQ
    samples = first_source_files(p, (".txt",), _DETECT_SAMPLE)
    if not samples:
        if first_source_files(p, (".json",), 1):
            return CELEBVHQ
        raise FormatError(f"{p}: no .txt or .json metafiles found")
    decimal_votes = parsed = 0
    for source in samples:
        result = parse_txt_careful(source.data, source.display, []) if not source.error else None
        if result is None:
            continue
        parsed += 1
        if has_language_level(source.parts, result.header.get(IDENTITY, (None, 0))[0]):
            return MAVCELEB
        decimal_votes += result.decimal
    if not parsed:
        raise FormatError(
            f"{p}: cannot tell the format (the first {len(samples)} txt files do not parse); "
            "pass --format"
        )
    return VOX2 if 2 * decimal_votes >= parsed else VOX1


def resolve_format(path: Pathlike, fmt: str = AUTO) -> str:
    """``fmt`` checked against the registry, or the detected format when ``auto``."""
    if fmt == AUTO:
        return detect_format(path)
    if fmt not in READERS:
        raise InvalidInputError(
            f"unknown format {fmt!r}; choose one of {', '.join((AUTO, *FORMAT_NAMES))}"
        )
    _require_path(path)
    return fmt


def read_segments(
    path: Pathlike,
    fmt: str = AUTO,
    problems: list[Problem] | None = None,
    **options: Any,
) -> Iterator[Segment]:
    """Stream the Segments of a metafile tree, zip or file in any registered format.

    Args:
        path: folder, ``.zip`` or single file.
        fmt: a name from ``FORMAT_NAMES`` or ``"auto"`` (``detect_format``).
        problems: problems are appended here (never raised); logged when None.
        **options: passed to the reader: ``progress`` (called with 1 per file, or per clip for
            CelebV-HQ) and ``box_resolution=(width, height)`` for pixel boxes (vox1, mavceleb).

    Raises:
        FormatError: missing path, unreadable zip, undetectable format.
        InvalidInputError: unknown format name or an option the format does not take.
    """
    name = resolve_format(path, fmt)
    reader = READERS[name]
    accepted = inspect.signature(reader).parameters
    for key in options:
        if key not in accepted:
            raise InvalidInputError(f"option {key!r} does not apply to the {name} format")
    return reader(path, problems=problems, **options)


def iter_references(
    path: Pathlike, fmt: str = AUTO, problems: list[Problem] | None = None
) -> Iterator[str]:
    """Unique source video ids (YouTube ids), in order of first appearance, for ``download``.

    Txt formats read only the ``Reference`` header line of each file (falling back to the
    path); invalid ids are reported as problems and skipped.
    """
    name = resolve_format(path, fmt)
    seen: set[str] = set()
    if name == CELEBVHQ:
        references: Iterator[str] = (s.reference for s in read_celebvhq(path, problems))
    else:
        references = read_references(path, problems)
    for reference in references:
        if reference not in seen:
            seen.add(reference)
            yield reference


__all__ = [
    "AUTO",
    "CELEBVHQ",
    "FORMATTERS",
    "FORMAT_NAMES",
    "MAVCELEB",
    "READERS",
    "VOX1",
    "VOX2",
    "count_source_files",
    "detect_format",
    "format_mavceleb",
    "format_vox1",
    "format_vox2",
    "format_vox_txt",
    "iter_references",
    "iter_source_files",
    "read_celebvhq",
    "read_mavceleb",
    "read_segments",
    "read_vox1",
    "read_vox2",
    "resolve_format",
    "resolve_vox_path",
    "write_mavceleb_tree",
    "write_vox1_tree",
    "write_vox2_tree",
]
