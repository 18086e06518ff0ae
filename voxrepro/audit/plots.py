"""Report figures as PNG bytes (matplotlib, Agg canvas; no global backend or pyplot state)."""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from voxrepro.audit.report import Report
from voxrepro.audit.rows import SegmentStatus

#: Boundary errors beyond this many frames are drawn in the outermost bins.
BOUNDARY_CLIP_FRAMES = 50
MAX_IDENTITY_BARS = 60
_DPI = 100


def _render(width: float, height: float, draw: Callable[[Axes], None]) -> bytes:
    figure = Figure(figsize=(width, height), dpi=_DPI, layout="constrained")
    FigureCanvasAgg(figure)
    draw(figure.add_subplot())
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _no_data(ax: Axes) -> None:
    ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)


def _column(report: Report, name: str, statuses: tuple[SegmentStatus, ...]) -> np.ndarray:
    status = np.asarray(report.rows["status"])
    values = np.asarray(report.rows[name], dtype=np.float64)
    keep = np.isin(status, [s.value for s in statuses]) & np.isfinite(values)
    return values[keep]


def plot_tiou_histogram(report: Report) -> bytes:
    """Best tIoU of every official segment of an available video."""
    values = _column(report, "best_tiou", (SegmentStatus.MATCHED, SegmentStatus.MISSED))
    threshold = report.parameters["tiou_threshold"]

    def draw(ax: Axes) -> None:
        ax.hist(values, bins=np.linspace(0, 1, 21), color="#4c72b0", edgecolor="white")
        ax.axvline(threshold, color="#c44e52", linestyle="--", label=f"threshold {threshold}")
        ax.set(xlabel="best tIoU per official segment", ylabel="segments", xlim=(0, 1))
        ax.legend(loc="upper left")
        if values.size == 0:
            _no_data(ax)

    return _render(5.0, 3.2, draw)


def plot_box_iou_histogram(report: Report) -> bytes:
    """Mean box IoU over shared frames of every matched segment."""
    values = _column(report, "box_iou_mean", (SegmentStatus.MATCHED,))

    def draw(ax: Axes) -> None:
        ax.hist(values, bins=np.linspace(0, 1, 21), color="#55a868", edgecolor="white")
        ax.set(xlabel="mean box IoU per matched segment", ylabel="segments", xlim=(0, 1))
        if values.size == 0:
            _no_data(ax)

    return _render(5.0, 3.2, draw)


def plot_boundary_errors(report: Report) -> bytes:
    """Start and end frame differences (generated − official) of matched segments."""
    start = _column(report, "start_diff", (SegmentStatus.MATCHED,))
    end = _column(report, "end_diff", (SegmentStatus.MATCHED,))
    limit = BOUNDARY_CLIP_FRAMES
    bins = np.arange(-limit - 0.5, limit + 1.5, 1.0)

    def draw(ax: Axes) -> None:
        ax.hist(np.clip(start, -limit, limit), bins=bins, alpha=0.6, label="start", color="#4c72b0")
        ax.hist(np.clip(end, -limit, limit), bins=bins, alpha=0.6, label="end", color="#dd8452")
        ax.set(xlabel=f"generated − official [frames, clipped to ±{limit}]", ylabel="segments")
        ax.legend(loc="upper right")
        if start.size == 0:
            _no_data(ax)

    return _render(5.0, 3.2, draw)


def plot_recall_curve(report: Report) -> bytes:
    """Segment recall, precision and F1 against the tIoU threshold."""
    t = [c["tiou"] for c in report.curve]

    def draw(ax: Axes) -> None:
        for key, colour in (("recall", "#4c72b0"), ("precision", "#dd8452"), ("f1", "#55a868")):
            ax.plot(t, [c[key] for c in report.curve], marker="o", label=key, color=colour)
        ax.set(xlabel="tIoU threshold", ylabel="fraction", xlim=(0, 1), ylim=(0, 1.02))
        ax.grid(alpha=0.3)
        ax.legend(loc="lower left")

    return _render(5.0, 3.2, draw)


def plot_identity_bars(report: Report) -> bytes:
    """Segment recall per identity (the lowest ``MAX_IDENTITY_BARS``)."""
    rows = [i for i in report.identities if i["recall"] is not None]
    rows.sort(key=lambda i: (i["recall"], i["identity"]))
    rows = rows[:MAX_IDENTITY_BARS]
    width = max(5.0, 0.18 * len(rows) + 1.5)

    def draw(ax: Axes) -> None:
        names = [i["identity"] for i in rows]
        ax.bar(range(len(rows)), [i["recall"] for i in rows], color="#8172b3")
        ax.set_xticks(range(len(rows)), names, rotation=90, fontsize=7)
        ax.set(ylabel="segment recall", ylim=(0, 1.02))
        ax.set_title(f"{len(rows)} identities with the lowest recall", fontsize=9)
        if not rows:
            _no_data(ax)

    return _render(width, 3.8, draw)


#: Plot name -> (caption, function); the HTML report shows them in this order.
PLOTS: dict[str, tuple[str, Callable[[Report], bytes]]] = {
    "tiou_hist": ("Best tIoU per official segment", plot_tiou_histogram),
    "box_iou_hist": ("Mean box IoU per matched segment", plot_box_iou_histogram),
    "boundary_hist": ("Boundary errors of matched segments", plot_boundary_errors),
    "recall_curve": ("Recall / precision vs tIoU threshold", plot_recall_curve),
    "identity_bars": ("Segment recall per identity", plot_identity_bars),
}


def render_plots(report: Report) -> dict[str, tuple[str, bytes]]:
    """Every plot as (caption, PNG bytes), by name."""
    return {name: (caption, plot(report)) for name, (caption, plot) in PLOTS.items()}
