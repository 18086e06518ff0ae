"""Read either side of a comparison, and find the download state that goes with it.

A side is any metafile tree, zip or file ``voxrepro.formats`` reads, or a pipeline output
folder (it holds ``run.json`` and a Vox2 txt tree under ``txt/``, which is what is read).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voxrepro.errors import InvalidInputError, VoxreproError
from voxrepro.formats import AUTO, count_source_files, read_segments, resolve_format
from voxrepro.segment import Problem, Segment
from voxrepro.store import STATE_FILENAME, read_video_states
from voxrepro.types import Pathlike, ProgressFn

log = logging.getLogger("voxrepro")

PIPELINE_MARKER = "run.json"
PIPELINE_TXT = "txt"


@dataclass(slots=True)
class LoadedSide:
    """The segments of one side and where they came from."""

    path: Path  # what the user gave
    source: Path  # what was read (``txt/`` of a pipeline folder)
    fmt: str
    kind: str  # "pipeline" or "metafiles"
    segments: list[Segment]


def resolve_side(path: Pathlike, what: str) -> tuple[Path, str]:
    """Where to read ``path`` from, and whether it is a pipeline output folder.

    Raises:
        InvalidInputError: the path does not exist, or a pipeline folder has no ``txt/``.
    """
    p = Path(path)
    if not p.exists():
        raise InvalidInputError(f"{what} input {p}: no such file or folder")
    if p.is_dir() and (p / PIPELINE_MARKER).is_file():
        txt = p / PIPELINE_TXT
        if not txt.is_dir():
            raise InvalidInputError(
                f"{what} input {p}: pipeline output folder without a {PIPELINE_TXT}/ tree"
            )
        return txt, "pipeline"
    return p, "metafiles"


def count_side_files(path: Pathlike, what: str) -> int | None:
    """Number of metafiles to read (for a progress bar), None when unknown."""
    source, _ = resolve_side(path, what)
    try:
        return count_source_files(source, (".txt", ".json"))
    except (OSError, VoxreproError):  # a count is only a nicety; reading reports the real error
        return None


def load_side(
    path: Pathlike,
    what: str,
    problems: list[Problem],
    fmt: str = AUTO,
    progress: ProgressFn | None = None,
) -> LoadedSide:
    """Read every segment of one side.

    Args:
        path: metafile folder/zip/file, or a pipeline output folder.
        what: "official" or "generated" (for messages).
        problems: per-file problems are appended here (the batch goes on).
        fmt: format name or ``auto``.
        progress: called with 1 per file read.

    Raises:
        InvalidInputError / FormatError: missing path, unreadable input, unknown format.
    """
    source, kind = resolve_side(path, what)
    name = resolve_format(source, fmt)
    options: dict[str, Any] = {"progress": progress} if progress is not None else {}
    segments = list(read_segments(source, name, problems=problems, **options))
    log.info("read %d %s segments from %s (%s)", len(segments), what, source, name)
    return LoadedSide(Path(path), source, name, kind, segments)


def find_state_db(explicit: Pathlike | None, *inputs: Pathlike) -> Path | None:
    """The download state database: ``explicit`` if given, else one found next to an input.

    Looks for ``download_state.sqlite3`` inside each input folder, then beside each input.

    Raises:
        InvalidInputError: ``explicit`` does not exist.
    """
    if explicit is not None:
        p = Path(explicit)
        if not p.exists():
            raise InvalidInputError(f"download state {p}: no such file or folder")
        return p / STATE_FILENAME if p.is_dir() else p
    for item in inputs:
        p = Path(item)
        for candidate in (p / STATE_FILENAME, p.parent / STATE_FILENAME):
            if candidate.is_file():
                return candidate
    return None


def load_states(db_path: Path | None) -> dict[str, Any] | None:
    """``read_video_states`` of the database, or None when there is none."""
    return None if db_path is None else read_video_states(db_path)
