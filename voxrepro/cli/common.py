"""Options and renderers shared by the commands (``--quiet``, ``--json``, progress bars)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from voxrepro.cli.app import console, stdout_console
from voxrepro.types import ProgressFn

QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars or tables.")]
JsonOpt = Annotated[
    bool, typer.Option("--json", help="Print one JSON object on stdout (implies --quiet).")
]


def print_json(obj: Any) -> None:
    """One JSON object on stdout, nothing else (for scripts)."""
    stdout_console.file.write(json.dumps(obj, default=str) + "\n")
    stdout_console.file.flush()


@contextlib.contextmanager
def progress_bar(description: str, total: int | None, enabled: bool = True) -> Iterator[ProgressFn]:
    """A rich progress bar on stderr; yields a callback ``advance(n)`` for library code."""
    if not enabled:
        yield lambda _n: None
        return
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task(description, total=total)
        yield lambda n=1: progress.advance(task, n)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print a one-line error and return the Exit to raise (usage errors exit 2)."""
    console.print(f"[bold red]error:[/] {message}", highlight=False, markup=True, soft_wrap=True)
    return typer.Exit(code)
