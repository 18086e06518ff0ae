"""Validation of untrusted ids and paths from metafiles and the command line.

Ids and path components come from files we do not control. Everything that becomes part of an
output path goes through here, so that no metafile can make us write outside the output root.
"""

from __future__ import annotations

import re
from pathlib import Path

from voxrepro.errors import InvalidInputError
from voxrepro.types import Pathlike

YOUTUBE_ID_RE = re.compile(r"^[A-Za-z0-9_-]{11}$")
# Path components (identities, utterance ids, clip ids): conservative ASCII, no dots-only names.
# A leading "-" is allowed because YouTube ids start with one (about 1 in 64, e.g. in Vox2);
# safe_join returns absolute paths, so such a component never reaches a tool as an option.
_COMPONENT_RE = re.compile(r"^[A-Za-z0-9_\-][A-Za-z0-9_.\-]{0,127}$")


def is_youtube_id(value: str) -> bool:
    """True if ``value`` has the shape of a YouTube video id (11 of ``[A-Za-z0-9_-]``)."""
    return bool(YOUTUBE_ID_RE.match(value))


def validate_youtube_id(value: str, where: str = "") -> str:
    """Return ``value`` if it is a YouTube id, else raise InvalidInputError naming ``where``."""
    if not is_youtube_id(value):
        prefix = f"{where}: " if where else ""
        raise InvalidInputError(
            f"{prefix}invalid YouTube id {value!r} (expected 11 characters of A-Z a-z 0-9 _ -)"
        )
    return value


def validate_component(value: str, what: str = "path component", where: str = "") -> str:
    """Return ``value`` if it is safe as one path component (no separators, no ``..``)."""
    if not _COMPONENT_RE.match(value) or value in {".", ".."} or ".." in value:
        prefix = f"{where}: " if where else ""
        raise InvalidInputError(f"{prefix}unsafe {what} {value!r}")
    return value


def safe_join(root: Pathlike, *parts: str) -> Path:
    """Join validated components under ``root`` and prove the result stays inside it.

    Raises:
        InvalidInputError: a component is unsafe or the path escapes ``root``.
    """
    base = Path(root).resolve()
    for part in parts:
        validate_component(part)
    candidate = base.joinpath(*parts).resolve()
    if candidate != base and base not in candidate.parents:
        raise InvalidInputError(f"path {candidate} escapes the output root {base}")
    return candidate
