"""``voxrepro inspect PATH``: counts and problems of a metafile tree, zip or file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from voxrepro.cli.app import app, stdout_console
from voxrepro.cli.common import JsonOpt, QuietOpt, fail, print_json, progress_bar
from voxrepro.errors import InvalidInputError, VoxreproError
from voxrepro.formats import AUTO, FORMAT_NAMES, resolve_format
from voxrepro.inspect import InspectSummary, expected_items, inspect_metafiles

_FORMAT_HELP = f"Metafile format: {', '.join((AUTO, *FORMAT_NAMES))}."


def parse_resolution(text: str | None) -> tuple[int, int] | None:
    """``"640x360"`` -> (640, 360); None stays None."""
    if text is None:
        return None
    width, sep, height = text.lower().partition("x")
    if not sep or not width.isdigit() or not height.isdigit() or not int(width) or not int(height):
        raise InvalidInputError(
            f"--box-resolution: expected WIDTHxHEIGHT in pixels, e.g. 640x360, got {text!r}"
        )
    return int(width), int(height)


def _render(summary: InspectSummary, max_problems: int) -> None:
    table = Table(title=f"{summary.path} ({summary.format})", show_header=False)
    table.add_column("what", style="bold")
    table.add_column("count", justify="right")
    table.add_row("identities", f"{summary.identities:,}")
    table.add_row("videos", f"{summary.videos:,}")
    table.add_row("segments", f"{summary.segments:,}")
    table.add_row("frames (25 fps)", f"{summary.frames:,}")
    table.add_row("hours", f"{summary.hours:,.2f}")
    for unit, count in summary.box_units.items():
        table.add_row(f"boxes: {unit}", f"{count:,}")
    for language, count in sorted(summary.languages.items()):
        table.add_row(f"language: {escape(language)}", f"{count:,}")
    style = "red" if summary.problems else "green"
    table.add_row("problems", f"[{style}]{len(summary.problems):,}[/]")
    stdout_console.print(table)
    for problem in summary.problems[:max_problems]:
        stdout_console.print(str(problem), markup=False, highlight=False, soft_wrap=True)
    hidden = len(summary.problems) - max_problems
    if hidden > 0:
        stdout_console.print(f"... and {hidden:,} more problems (--json lists them all)")


@app.command("inspect")
def inspect_cmd(
    path: Annotated[Path, typer.Argument(help="Metafile folder tree, .zip archive or file.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help=_FORMAT_HELP)] = AUTO,
    box_resolution: Annotated[
        str | None,
        typer.Option(
            "--box-resolution",
            help="WIDTHxHEIGHT the pixel boxes refer to (vox1, mavceleb); unknown by default.",
        ),
    ] = None,
    max_problems: Annotated[
        int, typer.Option("--max-problems", min=0, help="Problems listed under the table.")
    ] = 20,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit with status 1 if any problem is found.")
    ] = False,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Count identities, videos, segments, frames and hours, and list the problems found."""
    try:
        resolution = parse_resolution(box_resolution)
        name = resolve_format(path, fmt)
        show_progress = not (quiet or json_out)
        total = expected_items(path, name) if show_progress else None
        with progress_bar("inspect", total, enabled=show_progress) as advance:
            summary = inspect_metafiles(path, name, advance, resolution)
    except VoxreproError as error:
        raise fail(escape(str(error))) from None
    if json_out:
        print_json(summary.to_dict())
    elif quiet:
        stdout_console.print(
            f"{summary.format}: {summary.identities} identities, {summary.videos} videos, "
            f"{summary.segments} segments, {summary.frames} frames, {summary.hours:.3f} h, "
            f"{len(summary.problems)} problems",
            markup=False,
            highlight=False,
        )
    else:
        _render(summary, max_problems)
    if strict and summary.problems:
        raise typer.Exit(1)
