"""``report.html``: one self-contained page (inline CSS/JS, plots as base64 PNG, no network)."""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from voxrepro.atomic import write_text_atomic
from voxrepro.audit.html_template import PAGE
from voxrepro.audit.metrics import HEADLINE_METRICS, Metric
from voxrepro.audit.plots import render_plots
from voxrepro.audit.report import Report
from voxrepro.audit.report_md import format_value
from voxrepro.audit.report_tables import (
    IDENTITY_COLUMNS,
    UNAVAILABLE_VIDEO_COLUMNS,
    WORST_VIDEO_COLUMNS,
    WORST_VIDEOS,
    table,
)
from voxrepro.audit.rows import FLOAT_COLUMNS, INT_COLUMNS, ROW_COLUMNS

MAX_LISTED = 500
#: Float columns that hold whole frames (NaN-able), shown without decimals.
FRAME_DIFF_COLUMNS = ("start_diff", "end_diff", "offset_diff")
_PLACEHOLDER = re.compile(r"%%([A-Z]+)%%")

_COUNT_CARDS = (
    Metric.MEAN_TIOU,
    Metric.OFFICIAL_SEGMENTS,
    Metric.AVAILABLE_SEGMENTS,
    Metric.UNAVAILABLE_SEGMENTS,
    Metric.GENERATED_SEGMENTS,
    Metric.MATCHED_SEGMENTS,
    Metric.MISSED_SEGMENTS,
    Metric.EXTRA_SEGMENTS,
    Metric.OFFICIAL_VIDEOS,
    Metric.UNAVAILABLE_VIDEOS,
)


def _e(value: Any) -> str:
    return html.escape(format_value(value), quote=True)


def _e3(value: Any) -> str:
    return html.escape(format_value(value, 3), quote=True)


def html_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], table_id: str) -> str:
    """A static table; numbers right-aligned, every value escaped."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="n">{_e(v)}</td>'
            if isinstance(v, int | float) and not isinstance(v, bool)
            else f"<td>{_e(v)}</td>"
            for v in row
        )
        body.append(f"<tr>{cells}</tr>")
    return (
        f'<div class="scroll"><table id="{table_id}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def _card(key: str, value: str, headline: bool = False) -> str:
    kind = "card head" if headline else "card"
    label = html.escape(key.replace("_", " "))
    return (
        f'<div class="{kind}" data-metric="{html.escape(key)}"><div class="v">{value}</div>'
        f'<div class="k">{label}</div></div>'
    )


def _cards(report: Report) -> str:
    summary = report.summary
    cards = [_card(m.value, f"{summary[m.value]:.3f}", True) for m in HEADLINE_METRICS]
    cards += [_card(m.value, _e3(summary.get(m.value))) for m in _COUNT_CARDS]
    cards += [
        _card(key, _e3(summary[key]))
        for key in ("clips_compared", "mean_psnr_db", "mean_ssim")
        if key in summary
    ]
    return "".join(cards)


def _plots(report: Report) -> str:
    figures = []
    for name, (caption, png) in render_plots(report).items():
        data = base64.b64encode(png).decode("ascii")
        figures.append(
            f'<figure><img id="plot-{name}" alt="{html.escape(caption)}" '
            f'src="data:image/png;base64,{data}"><figcaption>{html.escape(caption)}</figcaption>'
            "</figure>"
        )
    return "".join(figures)


def _header(report: Report) -> str:
    p, i = report.parameters, report.inputs
    lines = [
        f"official: {i.get('official', '?')}",
        f"generated: {i.get('generated', '?')}",
        f"download state: {i.get('state') or 'none'}",
        f"{p['matching']}; tIoU ≥ {p['tiou_threshold']}, box IoU ≥ {p['box_iou_threshold']}, "
        f"boxes compared in {p['box_units']} units",
        f"created {report.created} by voxrepro {report.tool_version}",
    ]
    return "".join(f"<p>{html.escape(str(line))}</p>" for line in lines)


def _segment_data(report: Report) -> str:
    kinds = [
        "i" if c in INT_COLUMNS or c in FRAME_DIFF_COLUMNS else "f" if c in FLOAT_COLUMNS else ""
        for c in ROW_COLUMNS
    ]
    payload = {"columns": list(ROW_COLUMNS), "numeric": kinds, "rows": report.row_records(4)}
    # "<" escaped so that no value can close the <script> element.
    return json.dumps(payload, separators=(",", ":"), allow_nan=False).replace("<", "\\u003c")


def render_html(report: Report) -> str:
    """The whole HTML document."""
    worst = report.worst_videos(WORST_VIDEOS)
    unavailable = report.unavailable_videos
    clips = ""
    if report.clips:
        clips = "<h2>Clips</h2>" + html_table(
            [
                "official",
                "generated",
                "official frames",
                "generated frames",
                "PSNR dB",
                "SSIM",
                "audio diff s",
                "error",
            ],
            [
                [
                    c["official"],
                    c["generated"],
                    c.get("official_frames"),
                    c.get("generated_frames"),
                    c.get("psnr_db"),
                    c.get("ssim"),
                    c.get("audio_diff_seconds"),
                    c.get("error") or "",
                ]
                for c in report.clips[:MAX_LISTED]
            ],
            "clips",
        )
    problems = ""
    if report.problems:
        items = "".join(f"<li>{html.escape(p)}</li>" for p in report.problems[:MAX_LISTED])
        problems = f"<h2>Input problems ({len(report.problems)})</h2><ul>{items}</ul>"
    fill = {
        "TITLE": "voxrepro compare report",
        "HEADER": _header(report),
        "CARDS": _cards(report),
        "PLOTS": _plots(report),
        "WORST": html_table(*table(WORST_VIDEO_COLUMNS, worst), "worst-videos"),
        "UNAVAILABLE": html_table(
            *table(UNAVAILABLE_VIDEO_COLUMNS, unavailable[:MAX_LISTED]), "unavailable-videos"
        )
        if unavailable
        else "<p>None.</p>",
        "IDENTITIES": html_table(*table(IDENTITY_COLUMNS, report.identities), "identities"),
        "CLIPS": clips,
        "PROBLEMS": problems,
        "DATA": _segment_data(report),
    }
    # One pass: inserted (user-controlled) text is never scanned for placeholders again.
    return _PLACEHOLDER.sub(lambda found: fill[found.group(1)], PAGE)


class HtmlWriter:
    """``report.html``."""

    format_name = "html"
    filename = "report.html"

    def write(self, report: Report, path: Path) -> None:
        write_text_atomic(path, render_html(report))
