"""Stream metafiles one by one out of a folder tree, a zip archive or a single file.

The VoxCeleb2 dev tree holds 1,092,009 small files, so nothing here lists or loads a whole tree
of contents: folders are walked lazily (entries sorted per folder), zip members are read one at a
time. Both orders are "sorted by path components", so a tree and its zip yield the same files in
the same order.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from voxrepro.errors import FormatError
from voxrepro.types import Pathlike

# Archive litter and our own temp files (voxrepro.atomic) are never metafiles.
_SKIP_PREFIXES = (".", "__MACOSX")


@dataclass(frozen=True, slots=True)
class SourceFile:
    """One metafile to parse.

    Attributes:
        display: name used in messages: the file path, or ``<archive>/<member>`` for a zip.
        parts: path components below the tree root (or zip root); empty for a lone file.
        data: the raw bytes of the file (empty when ``error`` is set).
        error: why the file could not be read, if it could not (the stream goes on).
    """

    display: str
    parts: tuple[str, ...]
    data: bytes
    error: str | None = None


def is_zip(path: Pathlike) -> bool:
    """True for a regular file whose name ends in ``.zip`` (any case)."""
    p = Path(path)
    return p.suffix.lower() == ".zip" and p.is_file()


def _skipped(name: str) -> bool:
    return name.startswith(_SKIP_PREFIXES)


def _walk_sorted(folder: str, parts: tuple[str, ...]) -> Iterator[tuple[str, tuple[str, ...]]]:
    """Depth-first walk with entries sorted by name (equals sorting by the component tuple).

    Plain strings rather than Path objects: this runs once per file of a million-file tree.
    """
    try:
        with os.scandir(folder) as scan:
            entries = sorted(scan, key=lambda e: e.name)
    except OSError as error:
        raise FormatError(f"{folder}: cannot list folder ({error.strerror or error})") from error
    for entry in entries:
        if _skipped(entry.name):
            continue
        here = (*parts, entry.name)
        if entry.is_dir():
            yield from _walk_sorted(entry.path, here)
        elif entry.is_file():
            yield entry.path, here


def _open_zip(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise FormatError(f"{path}: unreadable zip archive ({error})") from error


def _zip_members(archive: zipfile.ZipFile, suffixes: tuple[str, ...]) -> list[zipfile.ZipInfo]:
    members = [
        info
        for info in archive.infolist()
        if not info.is_dir()
        and info.filename.lower().endswith(suffixes)
        and not any(_skipped(part) for part in info.filename.split("/"))
    ]
    # Sorting by the name with "/" mapped below every other character orders like the
    # component tuples of the folder walk, without a tuple per member (a million in Vox2 dev).
    members.sort(key=lambda info: info.filename.replace("/", "\x00"))
    return members


def count_source_files(path: Pathlike, suffixes: tuple[str, ...]) -> int | None:
    """Number of files ``iter_source_files`` will yield when cheap to know (zip, one file).

    Returns None for folders: counting would cost a second walk of up to a million files.
    """
    p = Path(path)
    if is_zip(p):
        with _open_zip(p) as archive:
            return len(_zip_members(archive, suffixes))
    if p.is_file():
        return 1
    return None


def iter_source_files(
    path: Pathlike, suffixes: tuple[str, ...] = (".txt",)
) -> Iterator[SourceFile]:
    """Yield every file under ``path`` whose name ends with one of ``suffixes``.

    Args:
        path: a folder tree, a ``.zip`` archive, or one file (yielded whatever its suffix).
        suffixes: lower-case name endings to keep, e.g. ``(".txt",)``.

    Raises:
        FormatError: ``path`` does not exist, or is an unreadable zip or folder.
    """
    p = Path(path)
    if not p.exists():
        raise FormatError(f"{p}: no such file or folder")
    if is_zip(p):
        with _open_zip(p) as archive:
            for info in _zip_members(archive, suffixes):
                display, parts = f"{p}/{info.filename}", tuple(info.filename.split("/"))
                try:
                    source = SourceFile(display, parts, archive.read(info))
                except (zipfile.BadZipFile, OSError, EOFError, RuntimeError) as error:
                    # One damaged member (bad CRC, unsupported compression) must not stop a batch.
                    source = SourceFile(display, parts, b"", f"unreadable zip member ({error})")
                yield source
        return
    if p.is_file():
        yield _read_file(p, ())
        return
    for file, parts in _walk_sorted(str(p), ()):
        if parts[-1].lower().endswith(suffixes):
            yield _read_file(file, parts)


def _read_file(path: str | Path, parts: tuple[str, ...]) -> SourceFile:
    try:
        with open(path, "rb") as fh:
            return SourceFile(str(path), parts, fh.read())
    except OSError as error:
        return SourceFile(str(path), parts, b"", f"cannot read ({error.strerror or error})")


def first_source_files(path: Pathlike, suffixes: tuple[str, ...], limit: int) -> list[SourceFile]:
    """The first ``limit`` files ``iter_source_files`` would yield (for format detection)."""
    found: list[SourceFile] = []
    for source in iter_source_files(path, suffixes):
        found.append(source)
        if len(found) >= limit:
            break
    return found
