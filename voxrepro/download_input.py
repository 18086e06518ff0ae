"""Which videos to download: ids from the command line, an id list file, or metafiles.

An id list has one id per line, as its first whitespace- or tab-separated field (so SEED's
``<id>\\t<anything>`` lists work), with ``#`` comments and blank lines ignored. A folder, a zip
or a metafile is read through ``voxrepro.formats.iter_references`` and yields the references
(YouTube ids) of its segments. Every id is validated here, before any request; an invalid one
becomes a ``Problem`` naming the file and line (or the command line) and the others go on.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from voxrepro.errors import InvalidInputError
from voxrepro.safety import is_youtube_id
from voxrepro.segment import Problem
from voxrepro.types import Pathlike

log = logging.getLogger("voxrepro")

COMMAND_LINE = "<command line>"
COMMENT = "#"


@dataclass
class IdSelection:
    """Valid ids in first-seen order (duplicates dropped) and the rejected ones."""

    ids: list[str] = field(default_factory=list)
    rejected: list[Problem] = field(default_factory=list)
    _seen: set[str] = field(default_factory=set, init=False, repr=False)

    def add(self, value: str, file: str, line: int | None) -> None:
        if not is_youtube_id(value):
            self.rejected.append(Problem(file, line, f"invalid YouTube id {value!r}"))
        elif value not in self._seen:
            self._seen.add(value)
            self.ids.append(value)


def iter_id_list(path: Pathlike) -> Iterator[tuple[str, int]]:
    """Yield ``(first field, line number)`` for each non-blank, non-comment line of a list.

    Raises:
        InvalidInputError: the file cannot be read as UTF-8 text.
    """
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidInputError(f"{path}: cannot read id list ({error})") from error
    for number, line in enumerate(text.splitlines(), start=1):
        content = line.split(COMMENT, 1)[0].strip()
        if content:
            yield content.split()[0], number


def looks_like_metafiles(path: Path) -> bool:
    """True for a folder, a zip, or a file in a metafile format (not a plain id list)."""
    if path.is_dir() or path.suffix.lower() == ".zip":
        return True
    if path.suffix.lower() in {".json", ".jsonl"}:
        return True
    try:
        with path.open(encoding="utf-8-sig", errors="replace") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    for line in head.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith(COMMENT):
            # VoxCeleb txt metafiles open with "Identity  : id00012".
            return stripped.split(":", 1)[0].strip().lower() == "identity"
    return False


def iter_metafile_references(path: Pathlike) -> Iterator[tuple[str, str, int | None]]:
    """Yield ``(reference, file, line)`` for each segment of a metafile tree, zip or file."""
    try:
        from voxrepro.formats import iter_references
    except ImportError as error:
        raise InvalidInputError(
            f"{path}: reading metafiles needs voxrepro.formats.iter_references ({error})"
        ) from error
    for item in iter_references(path):
        yield _reference_fields(item, str(path))


def _reference_fields(item: object, default_file: str) -> tuple[str, str, int | None]:
    # iter_references yields plain strings or records with .reference/.file/.line.
    if isinstance(item, str):
        return item, default_file, None
    reference = getattr(item, "reference", None)
    if reference is None and isinstance(item, tuple) and item:
        reference = item[0]
    file = getattr(item, "file", None) or getattr(item, "source_file", None) or default_file
    line = getattr(item, "line", None)
    if line is None:
        line = getattr(item, "source_line", None)
    return str(reference), str(file), line


def collect_ids(ids: Iterable[str] = (), from_path: Pathlike | None = None) -> IdSelection:
    """Validated, de-duplicated ids from the command line and/or ``--from``.

    Raises:
        InvalidInputError: ``from_path`` does not exist or cannot be read at all.
    """
    selection = IdSelection()
    for value in ids:
        selection.add(value.strip(), COMMAND_LINE, None)
    if from_path is not None:
        path = Path(from_path)
        if not path.exists():
            raise InvalidInputError(f"{path}: no such file or folder")
        if looks_like_metafiles(path):
            for reference, file, line in iter_metafile_references(path):
                selection.add(reference, file, line)
        else:
            for value, line in iter_id_list(path):
                selection.add(value, str(path), line)
    return selection
