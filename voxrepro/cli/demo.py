"""``voxrepro demo``: the whole tool on an embedded default (no network, no weights)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from voxrepro.cli.app import app, stdout_console
from voxrepro.cli.common import JsonOpt, QuietOpt, print_json, progress_bar
from voxrepro.types import ProgressFn


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for everything.")] = Path(
        "demo_out"
    ),
    quiet: QuietOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Compose a talking-portrait video, download it from loopback, rebuild, pipeline, audit."""
    from voxrepro.demo.run import run_demo  # torch and the detectors load only here

    show = not (quiet or json_out)

    def bars(description: str, total: int | None) -> AbstractContextManager[ProgressFn]:
        return progress_bar(description, total, show)

    result = run_demo(out.resolve(), bars)
    if json_out:
        print_json({"paths": {k: str(v) for k, v in result.paths.items()}, **result.numbers})
        return
    if quiet:
        return
    table = Table(title="voxrepro demo", show_header=True)
    table.add_column("what")
    table.add_column("where")
    for name, path in result.paths.items():
        table.add_row(name.replace("_", " "), escape(str(path)))
    stdout_console.print(table)
    numbers = Table(title="results", show_header=True)
    numbers.add_column("step")
    numbers.add_column("numbers")
    for step, values in result.numbers.items():
        text = ", ".join(
            f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items()
        )
        numbers.add_row(step.replace("_", " "), escape(text))
    stdout_console.print(numbers)
    stdout_console.print(f"open the audit report: {escape(str(result.paths['report']))}")
