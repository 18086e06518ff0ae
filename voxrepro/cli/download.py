"""``voxrepro download``: fetch source videos by YouTube id, resumably, with a failure summary."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from voxrepro.cli.app import app, console
from voxrepro.cli.common import JsonOpt, QuietOpt, fail, print_json, progress_bar
from voxrepro.download import DownloadResult, download_videos
from voxrepro.download_input import collect_ids
from voxrepro.download_options import DEFAULT_FORMAT, DEFAULT_URL_TEMPLATE, DownloadOptions
from voxrepro.segment import Problem
from voxrepro.store import VideoStatus

EXIT_OK = 0
EXIT_SOME_FAILED = 1
EXIT_USAGE = 2
#: Failed ids listed in the table; the rest are counted (all are in --json and the state).
MAX_FAILED_ROWS = 50


def summarise(results: list[DownloadResult], rejected: list[Problem]) -> dict[str, Any]:
    """The run as one JSON-ready object (also what the tables show)."""
    by_status = Counter(r.status.value for r in results)
    by_reason = Counter(r.state.reason for r in results if r.status is VideoStatus.FAILED)
    return {
        "total": len(results),
        "by_status": {status.value: by_status.get(status.value, 0) for status in VideoStatus},
        "by_reason": dict(by_reason.most_common()),
        "skipped": sum(r.skipped for r in results),
        "rejected": [p.to_dict() | {"text": str(p)} for p in rejected],
        "videos": [
            {
                "id": r.video_id,
                "status": r.status.value,
                "skipped": r.skipped,
                "attempts": r.state.attempts,
                "attempts_this_run": r.attempts_run,
                "failure_class": r.state.failure_class.value if r.state.failure_class else None,
                "reason": r.state.reason,
                "message": r.state.message,
                "path": r.state.path,
                "width": r.state.width,
                "height": r.state.height,
                "fps": r.state.fps,
                "duration": r.state.duration,
            }
            for r in results
        ],
    }


def exit_code_for(results: list[DownloadResult], rejected: list[Problem]) -> int:
    """0 when every id is done, 1 when any failed (or was rejected, or is still pending)."""
    if rejected or any(r.status is not VideoStatus.DONE for r in results):
        return EXIT_SOME_FAILED
    return EXIT_OK


def _render(summary: dict[str, Any], out_dir: Path) -> None:
    counts = Table(title=f"download: {out_dir}", title_justify="left")
    counts.add_column("status")
    counts.add_column("videos", justify="right")
    for status, count in summary["by_status"].items():
        counts.add_row(status, str(count))
    counts.add_row("[dim]skipped (no request)[/]", f"[dim]{summary['skipped']}[/]")
    if summary["rejected"]:
        counts.add_row("invalid id", str(len(summary["rejected"])))
    console.print(counts)
    if summary["by_reason"]:
        reasons = Table(title="failures by reason", title_justify="left")
        reasons.add_column("reason")
        reasons.add_column("videos", justify="right")
        for reason, count in summary["by_reason"].items():
            reasons.add_row(escape(str(reason)), str(count))
        console.print(reasons)
    failed = [v for v in summary["videos"] if v["status"] != VideoStatus.DONE.value]
    if failed:
        table = Table(title="not downloaded", title_justify="left")
        for column in ("id", "status", "class", "reason", "attempts", "message"):
            table.add_column(column, overflow="fold")
        for video in failed[:MAX_FAILED_ROWS]:
            table.add_row(
                video["id"],
                video["status"],
                video["failure_class"] or "",
                video["reason"] or "",
                str(video["attempts"]),
                escape(video["message"] or ""),
            )
        if len(failed) > MAX_FAILED_ROWS:
            table.caption = f"... and {len(failed) - MAX_FAILED_ROWS} more (see --json)"
        console.print(table)


@app.command("download")
def download(
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder (created if missing).")],
    ids: Annotated[list[str] | None, typer.Argument(help="YouTube ids to download.")] = None,
    from_path: Annotated[
        Path | None,
        typer.Option(
            "--from", help="An id list (first field per line, # comments) or metafiles tree/zip."
        ),
    ] = None,
    workers: Annotated[int, typer.Option(help="Parallel downloads.")] = 2,
    proxy: Annotated[str | None, typer.Option(help="Proxy URL for yt-dlp.")] = None,
    cookies: Annotated[Path | None, typer.Option(help="cookies.txt for yt-dlp.")] = None,
    format: Annotated[str, typer.Option("--format", "-f", help="yt-dlp format.")] = DEFAULT_FORMAT,
    retries: Annotated[int, typer.Option(help="Retries of transient failures per run.")] = 3,
    sleep: Annotated[float, typer.Option(help="Seconds between the requests of one worker.")] = 0.0,
    backoff: Annotated[
        float, typer.Option(help="First retry delay in seconds (doubles per retry, + jitter).")
    ] = 2.0,
    url_template: Annotated[
        str, typer.Option(help="Video URL with {id} in place of the id.")
    ] = DEFAULT_URL_TEMPLATE,
    retry_failed: Annotated[
        bool, typer.Option("--retry-failed", help="Also retry permanent failures.")
    ] = False,
    quiet: QuietOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Download source videos to OUT/<id>.<ext>; reruns skip finished and permanent failures."""
    options = DownloadOptions(
        out_dir=out,
        workers=workers,
        proxy=proxy,
        cookies=cookies,
        format=format,
        retries=retries,
        sleep=sleep,
        url_template=url_template,
        retry_failed=retry_failed,
        backoff=backoff,
    )
    options.validate()  # an InvalidInputError becomes one "error:" line and exit 2
    selection = collect_ids(ids or [], from_path)
    for problem in selection.rejected:
        console.print(
            f"[bold red]error:[/] {escape(str(problem))}", highlight=False, soft_wrap=True
        )
    if not selection.ids:
        raise fail("no valid video ids given (pass ids or --from PATH)", EXIT_USAGE)
    show = not (quiet or json_out)
    with progress_bar("download", len(selection.ids), show) as advance:
        results = download_videos(selection.ids, options, advance)
    summary = summarise(results, selection.rejected)
    if json_out:
        print_json({"out": str(out)} | summary)
    elif not quiet:
        _render(summary, out)
    raise typer.Exit(exit_code_for(results, selection.rejected))
