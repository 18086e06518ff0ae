"""Source video ids of a VoxCeleb-style txt tree, reading only each file's header.

``download --from`` needs the references of up to a million files; parsing every row for that
would be wasted work, so this reads the ``Reference`` line alone.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from voxrepro.formats.source import iter_source_files
from voxrepro.formats.voxtxt import resolve_vox_path
from voxrepro.formats.voxtxt_layout import HEADER_PREFIXES, REFERENCE
from voxrepro.safety import is_youtube_id
from voxrepro.segment import Problem
from voxrepro.types import Pathlike

logger = logging.getLogger("voxrepro")


def _header_reference(data: bytes) -> tuple[str | None, int | None]:
    """The Reference header value and its line, reading only the first lines."""
    head = data.split(b"\n", 2)
    if len(head) >= 2 and head[1].startswith(HEADER_PREFIXES[1]):
        return head[1][len(HEADER_PREFIXES[1]) :].decode("utf-8", errors="replace").strip(), 2
    for index, line in enumerate(data[:4096].decode("utf-8", errors="replace").split("\n")[:10]):
        label, colon, value = line.partition(":")
        if colon and label.strip().casefold() == REFERENCE.casefold():
            return value.strip(), index + 1
    return None, None


def read_references(path: Pathlike, problems: list[Problem] | None = None) -> Iterator[str]:
    """The reference (YouTube id) of every txt under ``path``, in file order, with repeats.

    Only the header is read. A missing header falls back to the ``<reference>`` folder; ids that
    are not YouTube ids are reported and skipped.
    """
    sink: list[Problem] = problems if problems is not None else []
    for source in iter_source_files(path, (".txt",)):
        reference, line = (None, None) if source.error else _header_reference(source.data)
        if source.error:
            sink.append(Problem(source.display, None, source.error))
        elif reference is None:
            reference = resolve_vox_path(source.parts, None, source.display).reference
            if reference is None:
                sink.append(Problem(source.display, None, "no Reference header line or folder"))
        if reference is not None and not is_youtube_id(reference):
            sink.append(
                Problem(source.display, line, f"Reference {reference!r} is not a valid YouTube id")
            )
            reference = None
        if problems is None:
            for problem in sink:
                logger.warning("%s", problem)
            sink.clear()
        if reference is not None:
            yield reference
