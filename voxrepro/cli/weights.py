"""``voxrepro weights fetch|check``: the official S3FD and SyncNet weight files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from voxrepro.cli.app import app, console, stdout_console
from voxrepro.cli.common import JsonOpt, QuietOpt, print_json, progress_bar
from voxrepro.weights import (
    BASE_URL,
    DEFAULT_TIMEOUT_S,
    FILENAMES,
    FetchStatus,
    WeightsKind,
    WeightsReport,
    default_cache_dir,
)

weights_app = typer.Typer(
    help="Fetch and check the official S3FD (sfd_face.pth) and SyncNet (syncnet_v2.model) files.",
    no_args_is_help=True,
)
app.add_typer(weights_app, name="weights")


@weights_app.command("fetch")
def fetch(
    cache_dir: Annotated[
        Path | None,
        typer.Option("--dir", help="Cache folder (default $VOXREPRO_CACHE or ~/.cache/voxrepro)."),
    ] = None,
    only: Annotated[
        list[WeightsKind] | None, typer.Option("--only", help="Fetch only this model (repeatable).")
    ] = None,
    base_url: Annotated[
        str, typer.Option("--base-url", help="Folder URL holding both files (a mirror).")
    ] = BASE_URL,
    timeout: Annotated[float, typer.Option(help="Network timeout in seconds.")] = DEFAULT_TIMEOUT_S,
    force: Annotated[bool, typer.Option(help="Download even if a valid file is cached.")] = False,
    quiet: QuietOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Download both official weight files into the cache, checking keys and shapes."""
    from voxrepro.weights import fetch_weights

    folder = cache_dir or default_cache_dir()
    results = []
    for kind in only or list(WeightsKind):
        with progress_bar(f"{FILENAMES[kind]} (bytes)", None, not (quiet or json_out)) as advance:
            results += fetch_weights(folder, [kind], base_url, timeout, force, advance)
    failed = [r for r in results if r.status is FetchStatus.FAILED]
    if json_out:
        print_json(
            {
                "cache_dir": str(folder),
                "ok": not failed,
                "files": [
                    {
                        "kind": r.kind.value,
                        "path": str(r.path),
                        "status": r.status.value,
                        "url": r.url,
                        "sha256": r.sha256,
                        "error": r.error,
                    }
                    for r in results
                ],
            }
        )
    else:
        for r in results:
            if r.status is FetchStatus.FAILED:
                console.print(
                    f"[bold red]error:[/] {escape(r.error or '')}", highlight=False, soft_wrap=True
                )
            elif not quiet:
                stdout_console.print(f"{r.status.value:10s} {r.path}  sha256 {r.sha256}")
    if failed:
        raise typer.Exit(1)


def _print_report(report: WeightsReport, all_keys: bool) -> None:
    summary = Table(title=escape(str(report.path)), show_header=False)
    summary.add_column("field", no_wrap=True)
    summary.add_column("value", overflow="fold")
    summary.add_row("model", report.kind.value)
    summary.add_row("keys in file", str(len([c for c in report.checks if c.actual is not None])))
    summary.add_row("sha256", report.sha256)
    summary.add_row("size", f"{report.size_bytes:,} bytes")
    summary.add_row("result", "[green]valid[/]" if report.ok else "[bold red]INVALID[/]")
    stdout_console.print(summary)
    rows = report.checks if all_keys else report.problems
    if not rows:
        return
    table = Table("key", "expected shape", "shape in file", "status")
    for check in rows:
        style = "" if check.ok else "red"
        table.add_row(
            check.key,
            str(check.expected) if check.expected is not None else "-",
            str(check.actual) if check.actual is not None else "-",
            check.status.value,
            style=style,
        )
    stdout_console.print(table)


@weights_app.command("check")
def check(
    path: Annotated[
        Path, typer.Argument(help="A weights file (sfd_face.pth or syncnet_v2.model).")
    ],
    all_keys: Annotated[bool, typer.Option("--keys", help="List every key, not only problems.")] = (
        False
    ),
    quiet: QuietOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Identify which model PATH holds and check every key and shape (exit 0 valid, 1 not)."""
    from voxrepro.weights import check_weights

    report = check_weights(path)  # unreadable file: ModelError -> one line, exit 2
    if json_out:
        print_json(report.to_dict())
    elif not quiet:
        _print_report(report, all_keys)
    if not report.ok:
        first = report.problems[0].message()
        more = f" (and {len(report.problems) - 1} more)" if len(report.problems) > 1 else ""
        console.print(
            f"[bold red]error:[/] {escape(str(path))}: not valid {report.kind.value} weights: "
            f"{escape(first)}{more}",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(1)
