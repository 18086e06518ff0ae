"""The tables the written reports share (Markdown and HTML): which record key goes under which
column heading, defined once so that the two documents cannot drift apart."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

#: Videos listed in the "worst videos" tables (lowest segment recall first).
WORST_VIDEOS = 20

Columns = Sequence[tuple[str, str]]  # (heading, record key)

WORST_VIDEO_COLUMNS: Columns = (
    ("reference", "reference"),
    ("identities", "identities"),
    ("official", "official"),
    ("matched", "matched"),
    ("missed", "missed"),
    ("extra", "extra"),
    ("recall", "recall"),
    ("mean best tIoU", "mean_best_tiou"),
    ("mean box IoU", "mean_box_iou"),
)
#: The Markdown report leaves out the last column (the downloader's full message).
UNAVAILABLE_VIDEO_COLUMNS: Columns = (
    ("reference", "reference"),
    ("identities", "identities"),
    ("official segments", "official"),
    ("status", "download_status"),
    ("failure class", "failure_class"),
    ("reason", "reason"),
    ("message", "message"),
)
IDENTITY_COLUMNS: Columns = (
    ("identity", "identity"),
    ("videos", "videos"),
    ("unavailable videos", "unavailable_videos"),
    ("official", "official"),
    ("available", "available_segments"),
    ("rebuilt", "rebuilt"),
    ("matched", "matched"),
    ("recall", "recall"),
    ("frame recall", "frame_recall"),
)


def table(
    columns: Columns, records: Iterable[Mapping[str, Any]]
) -> tuple[list[str], list[list[Any]]]:
    """Headings and rows (one per record, values in column order) for a table writer."""
    return [heading for heading, _ in columns], [
        [record[key] for _, key in columns] for record in records
    ]


__all__ = [
    "IDENTITY_COLUMNS",
    "UNAVAILABLE_VIDEO_COLUMNS",
    "WORST_VIDEOS",
    "WORST_VIDEO_COLUMNS",
    "table",
]
