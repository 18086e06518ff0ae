"""The Report: everything the writers render, and its versioned JSON form (``report.json``).

Schema changes that rename or remove keys bump ``SCHEMA_VERSION``; adding keys does not.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from voxrepro import __version__
from voxrepro.audit.coverage import (
    list_unavailable_videos,
    select_worst_videos,
    summarise_identities,
    summarise_videos,
)
from voxrepro.audit.metrics import compute_curve, compute_summary
from voxrepro.audit.rows import ROW_COLUMNS, SegmentRows, build_segment_rows, count_rows
from voxrepro.audit.rows import rows_as_records as _rows_as_records
from voxrepro.audit.table import MatchTable

SCHEMA_VERSION = 1


@dataclass(slots=True)
class Report:
    """The result of one comparison (see the README for every key)."""

    parameters: dict[str, Any]
    inputs: dict[str, Any]
    summary: dict[str, Any]
    curve: list[dict[str, float]]
    videos: list[dict[str, Any]]
    identities: list[dict[str, Any]]
    unavailable_videos: list[dict[str, Any]]
    rows: SegmentRows
    clips: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    created: str = ""
    tool_version: str = __version__

    @property
    def num_rows(self) -> int:
        return count_rows(self.rows)

    def worst_videos(self, limit: int = 10) -> list[dict[str, Any]]:
        return select_worst_videos(self.videos, limit)

    def row_records(self, digits: int = 4) -> list[list[Any]]:
        """Per-segment rows as lists in ``ROW_COLUMNS`` order (JSON-ready)."""
        return _rows_as_records(self.rows, digits)

    def to_dict(self) -> dict[str, Any]:
        """The ``report.json`` object (schema version ``SCHEMA_VERSION``)."""
        return {
            "schema_version": SCHEMA_VERSION,
            "tool": {"name": "voxrepro", "version": self.tool_version},
            "created": self.created,
            "inputs": self.inputs,
            "parameters": self.parameters,
            "summary": self.summary,
            "curve": self.curve,
            "videos": self.videos,
            "identities": self.identities,
            "unavailable_videos": self.unavailable_videos,
            "clips": self.clips,
            "segment_columns": list(ROW_COLUMNS),
            "segments": [
                dict(zip(ROW_COLUMNS, record, strict=True)) for record in self.row_records()
            ],
            "problems": self.problems,
        }


def build_report(
    table: MatchTable,
    *,
    tiou_threshold: float,
    box_iou_threshold: float,
    box_units: str,
    inputs: dict[str, Any] | None = None,
    clips: list[dict[str, Any]] | None = None,
    clip_summary: dict[str, Any] | None = None,
    problems: list[str] | None = None,
) -> Report:
    """Summarise a MatchTable into a Report (pure; nothing is written)."""
    videos = summarise_videos(table, tiou_threshold)
    summary = compute_summary(table, tiou_threshold)
    if clip_summary:
        summary.update(clip_summary)
    return Report(
        parameters={
            "tiou_threshold": tiou_threshold,
            "box_iou_threshold": box_iou_threshold,
            "box_units": box_units,
            "matching": "one-to-one greedy by descending tIoU, per reference",
        },
        inputs=dict(inputs or {}),
        summary=summary,
        curve=compute_curve(table),
        videos=videos,
        identities=summarise_identities(table, tiou_threshold),
        unavailable_videos=list_unavailable_videos(table, videos),
        rows=build_segment_rows(table, tiou_threshold),
        clips=list(clips or []),
        problems=list(problems or []),
        created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    )
