"""``report.md``: the summary, curve, worst videos, unavailable videos and identities."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from voxrepro.atomic import write_text_atomic
from voxrepro.audit.metrics import HEADLINE_METRICS
from voxrepro.audit.report import Report
from voxrepro.audit.report_tables import (
    IDENTITY_COLUMNS,
    UNAVAILABLE_VIDEO_COLUMNS,
    WORST_VIDEO_COLUMNS,
    WORST_VIDEOS,
    table,
)

MAX_LISTED = 100


def format_value(value: Any, digits: int = 4) -> str:
    """Numbers for humans: ints as is, floats rounded, None as an en dash."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _cell(value: Any) -> str:
    return format_value(value).replace("|", "\\|").replace("\n", " ")


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def render_markdown(report: Report) -> str:
    """The whole Markdown document."""
    summary, params, inputs = report.summary, report.parameters, report.inputs
    parts = [
        "# voxrepro compare report",
        "",
        f"- official: `{inputs.get('official', '?')}`",
        f"- generated: `{inputs.get('generated', '?')}`",
        f"- download state: `{inputs.get('state') or 'none'}`",
        f"- matching: {params['matching']}; tIoU ≥ {params['tiou_threshold']}, "
        f"box IoU ≥ {params['box_iou_threshold']}, boxes compared in {params['box_units']} units",
        f"- created {report.created} by voxrepro {report.tool_version}",
        "",
        "## Summary",
        "",
    ]
    headline = [(m.value, summary[m.value]) for m in HEADLINE_METRICS]
    others = [(k, v) for k, v in summary.items() if k not in dict(headline)]
    parts += [markdown_table(["metric", "value"], headline + others), ""]
    parts += ["## Segment recall and precision vs tIoU threshold", ""]
    parts += [
        markdown_table(
            ["tIoU ≥", "recall", "precision", "F1"],
            [[f"{c['tiou']:.1f}", c["recall"], c["precision"], c["f1"]] for c in report.curve],
        ),
        "",
    ]
    worst = report.worst_videos(WORST_VIDEOS)
    parts += [f"## Worst {len(worst)} videos (lowest segment recall)", ""]
    parts += [
        markdown_table(*table(WORST_VIDEO_COLUMNS, worst)),
        "",
    ]
    unavailable = report.unavailable_videos
    parts += [f"## Unavailable videos ({len(unavailable)})", ""]
    if unavailable:
        shown = unavailable[:MAX_LISTED]
        parts.append(markdown_table(*table(UNAVAILABLE_VIDEO_COLUMNS[:-1], shown)))
        if len(unavailable) > len(shown):
            parts.append(f"\n… and {len(unavailable) - len(shown)} more (see report.json).")
    else:
        parts.append("None.")
    parts += ["", f"## Identities ({len(report.identities)})", ""]
    parts.append(markdown_table(*table(IDENTITY_COLUMNS, report.identities)))
    if report.clips:
        parts += ["", f"## Clips ({len(report.clips)})", ""]
        parts.append(
            markdown_table(
                [
                    "official",
                    "generated",
                    "frames (off/gen)",
                    "PSNR dB",
                    "SSIM",
                    "audio diff s",
                    "error",
                ],
                [
                    [
                        c["official"],
                        c["generated"],
                        f"{c.get('official_frames')}/{c.get('generated_frames')}",
                        c.get("psnr_db"),
                        c.get("ssim"),
                        c.get("audio_diff_seconds"),
                        c.get("error") or "",
                    ]
                    for c in report.clips[:MAX_LISTED]
                ],
            )
        )
    if report.problems:
        parts += ["", f"## Input problems ({len(report.problems)})", ""]
        parts += [f"- `{p}`" for p in report.problems[:MAX_LISTED]]
    parts.append("")
    return "\n".join(parts)


class MarkdownWriter:
    """``report.md``."""

    format_name = "md"
    filename = "report.md"

    def write(self, report: Report, path: Path) -> None:
        write_text_atomic(path, render_markdown(report))
