"""Write-to-temp-then-rename, so a killed run never leaves a half-written output.

Temporary files live in the destination folder (same filesystem, so ``os.replace`` is atomic)
and are named ``.tmp-<pid>-<name>``: hidden, unique per process, and keeping the suffix so that
muxers that infer the container from the extension (PyAV, ffmpeg) still work.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from voxrepro.types import Pathlike

TEMP_PREFIX = ".tmp-"


def temp_path_for(dest: Pathlike) -> Path:
    """The temporary sibling of ``dest`` used while it is being written."""
    dest = Path(dest)
    return dest.with_name(f"{TEMP_PREFIX}{os.getpid()}-{dest.name}")


@contextlib.contextmanager
def atomic_path(dest: Pathlike) -> Iterator[Path]:
    """Yield a temp path to write; on success rename it to ``dest``, on error delete it."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path_for(dest)
    try:
        yield tmp
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def write_bytes_atomic(dest: Pathlike, data: bytes) -> None:
    with atomic_path(dest) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(dest: Pathlike, text: str, encoding: str = "utf-8") -> None:
    # newline="" keeps "\n" exactly: metafile round trips must be byte-identical.
    with atomic_path(dest) as tmp, open(tmp, "w", encoding=encoding, newline="") as fh:
        fh.write(text)


def write_json_atomic(dest: Pathlike, obj: Any, indent: int | None = 2) -> None:
    write_text_atomic(dest, json.dumps(obj, indent=indent, sort_keys=False, default=str) + "\n")


def remove_stale_temps(folder: Pathlike, recursive: bool = True) -> int:
    """Delete temp files left by killed runs under ``folder``; return how many were removed."""
    folder = Path(folder)
    if not folder.exists():
        return 0
    pattern = f"**/{TEMP_PREFIX}*" if recursive else f"{TEMP_PREFIX}*"
    removed = 0
    for path in folder.glob(pattern):
        if path.is_file():
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                removed += 1
    return removed
