"""Terminal view of a Report as rich tables (built here, printed by the CLI)."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from voxrepro.audit.metrics import HEADLINE_METRICS, Metric
from voxrepro.audit.report import Report
from voxrepro.audit.report_md import format_value

_COUNTS = (
    Metric.MEAN_TIOU,
    Metric.MEAN_ABS_START_DIFF,
    Metric.MEAN_ABS_END_DIFF,
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
_CLIP_KEYS = ("clips_compared", "clips_failed", "mean_psnr_db", "mean_ssim")


def build_summary_table(report: Report) -> Table:
    """Headline metrics (bold), then counts and clip metrics when present."""
    p = report.parameters
    table = Table(
        title=f"tIoU ≥ {p['tiou_threshold']}, box IoU ≥ {p['box_iou_threshold']}, "
        f"boxes in {p['box_units']} units",
        title_justify="left",
    )
    table.add_column("metric")
    table.add_column("value", justify="right")
    for metric in HEADLINE_METRICS:
        table.add_row(f"[bold]{metric.value}[/]", f"[bold]{report.summary[metric.value]:.4f}[/]")
    for metric in _COUNTS:
        table.add_row(metric.value, format_value(report.summary.get(metric.value)))
    for key in _CLIP_KEYS:
        if key in report.summary:
            table.add_row(key, format_value(report.summary[key]))
    return table


def build_worst_videos_table(report: Report, limit: int = 10) -> Table:
    """The ``limit`` available videos with the lowest segment recall.

    Columns: official segments, matched, missed, extra generated segments, segment recall,
    mean best tIoU of the official segments, mean box IoU of the matched ones.
    """
    table = Table(title=f"worst {limit} videos by segment recall", title_justify="left")
    table.add_column("reference", no_wrap=True, min_width=11)
    table.add_column("identity", min_width=8, overflow="ellipsis")
    for name in ("off.", "match", "miss", "extra", "recall", "tIoU", "box"):
        table.add_column(name, justify="right", no_wrap=True)
    for v in report.worst_videos(limit):
        table.add_row(
            Text(v["reference"]),  # Text: ids from metafiles are never read as markup
            Text(v["identities"]),
            str(v["official"]),
            str(v["matched"]),
            str(v["missed"]),
            str(v["extra"]),
            format_value(v["recall"], 3),
            format_value(v["mean_best_tiou"], 3),
            format_value(v["mean_box_iou"], 3),
        )
    return table
