"""Which videos to download: ids from the command line, an id list file, or metafiles.

An id list has one id per line, as its first whitespace- or tab-separated field (so SEED's
``<id>\\t<anything>`` lists work), with ``#`` comments and blank lines ignored. A folder, a zip,
a ``.json`` or a txt file that opens with an ``Identity`` header is read as metafiles through
``voxrepro.formats.iter_references``, which yields the references (YouTube ids) of its
segments. Every id is validated here, before any request; an invalid one becomes a ``Problem``
naming the file and line (or the command line) and the others go on.
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
            self.rejected.append(
                Problem(
                    file, line, f"invalid YouTube id {value!r} (expected 11 of A-Z a-z 0-9 _ -)"
                )
            )
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


def iter_metafile_references(path: Pathlike, problems: list[Problem]) -> Iterator[str]:
    """References (YouTube ids) of a metafile tree, zip or file, each once, in file order.

    Invalid references and unreadable files are appended to ``problems`` as they are met.

    Raises:
        FormatError: the path holds no recognisable metafiles.
    """
    from voxrepro.formats import iter_references  # heavy (numpy readers); only when needed

    yield from iter_references(path, problems=problems)


def collect_ids(ids: Iterable[str] = (), from_path: Pathlike | None = None) -> IdSelection:
    """Validated, de-duplicated ids from the command line and/or ``--from``.

    Raises:
        InvalidInputError: ``from_path`` does not exist or an id list cannot be read.
        FormatError: ``from_path`` looks like metafiles but holds none it can read.
    """
    selection = IdSelection()
    for value in ids:
        selection.add(value.strip(), COMMAND_LINE, None)
    if from_path is not None:
        path = Path(from_path)
        if not path.exists():
            raise InvalidInputError(f"{path}: no such file or folder")
        if looks_like_metafiles(path):
            problems: list[Problem] = []
            for reference in iter_metafile_references(path, problems):
                selection.add(reference, str(path), None)
            selection.rejected.extend(problems)
        else:
            for value, line in iter_id_list(path):
                selection.add(value, str(path), line)
    return selection
