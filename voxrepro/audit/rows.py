"""The per-segment table of the reports: one row per official segment, then one per
generated segment without a partner at the tIoU threshold ("extra").

Columns (units in brackets; NaN / empty when not applicable):

status          matched | missed | unavailable | extra
identity, reference, utterance, first_frame, last_frame, num_frames [25 fps frames]
partner         the other side's segment as ``identity/utterance`` (see ``match``)
best_tiou       best tIoU with any segment of the other side
match_tiou      tIoU with the one-to-one partner (0 when none)
start_diff, end_diff   partner's first/last frame minus official's [frames]
box_iou_mean, box_iou_min   box IoU over frames both have
offset_diff     partner's SyncNet offset minus official's [frames]
coverage        fraction of the official segment's frames inside any generated segment
frame_hits      fraction of the segment's frames whose box meets a box of the other side
                with IoU >= box threshold
note            why a segment is unavailable, or that its partner is shared
"""

from __future__ import annotations

import enum
from typing import Any

import numpy as np

from voxrepro.audit.match import NO_MATCH
from voxrepro.audit.table import MatchTable


class SegmentStatus(enum.StrEnum):
    MATCHED = "matched"
    MISSED = "missed"
    UNAVAILABLE = "unavailable"
    EXTRA = "extra"


TEXT_COLUMNS = ("status", "identity", "reference", "utterance", "partner", "note")
INT_COLUMNS = ("first_frame", "last_frame", "num_frames")
FLOAT_COLUMNS = (
    "best_tiou",
    "match_tiou",
    "start_diff",
    "end_diff",
    "box_iou_mean",
    "box_iou_min",
    "offset_diff",
    "coverage",
    "frame_hits",
)
ROW_COLUMNS = (
    "status",
    "identity",
    "reference",
    "utterance",
    "first_frame",
    "last_frame",
    "num_frames",
    "partner",
    *FLOAT_COLUMNS,
    "note",
)

SegmentRows = dict[str, Any]  # column name -> list[str] | int64 array | float64 array


def _unavailable_note(table: MatchTable, reference: str) -> str:
    state = table.availability.get(reference)
    if state is None:
        return ""
    parts = [p for p in (state.status, state.failure_class, state.reason) if p]
    return "download " + "/".join(parts)


def build_segment_rows(table: MatchTable, tiou_threshold: float) -> SegmentRows:
    """Columnar rows: official segments first (reference order), then extra generated ones."""
    matched = table.off_matched(tiou_threshold)
    extra = np.flatnonzero(~table.gen_matched(tiou_threshold))
    off, gen = table.off_segments, table.gen_segments
    status: list[str] = []
    note: list[str] = []
    partner: list[str] = []
    for i, segment in enumerate(off):
        if not table.off_available[i]:
            status.append(SegmentStatus.UNAVAILABLE.value)
            note.append(_unavailable_note(table, segment.reference))
        else:
            status.append(SegmentStatus.MATCHED.value if matched[i] else SegmentStatus.MISSED.value)
            note.append("partner shared" if table.off_partner_shared[i] else "")
        j = int(table.off_partner[i])
        partner.append("" if j == NO_MATCH else f"{gen[j].identity}/{gen[j].utterance}")
    for j in extra.tolist():
        status.append(SegmentStatus.EXTRA.value)
        note.append("")
        i = int(table.gen_partner[j])
        partner.append("" if i == NO_MATCH else f"{off[i].identity}/{off[i].utterance}")
    extras = [gen[j] for j in extra.tolist()]
    both = [*off, *extras]
    n_extra = extra.shape[0]
    nan = np.full(n_extra, np.nan)

    def floats(official_values: np.ndarray, extra_values: np.ndarray) -> np.ndarray:
        return np.concatenate([official_values.astype(np.float64), extra_values])

    off_hits = table.off_frame_hits / np.maximum(table.off_num_frames, 1)
    gen_hits = table.gen_frame_hits[extra] / np.maximum(table.gen_num_frames[extra], 1)
    return {
        "status": status,
        "identity": [s.identity for s in both],
        "reference": [s.reference for s in both],
        "utterance": [s.utterance for s in both],
        "first_frame": np.array([s.first_frame for s in both], dtype=np.int64),
        "last_frame": np.array([s.last_frame for s in both], dtype=np.int64),
        "num_frames": np.array([s.num_frames for s in both], dtype=np.int64),
        "partner": partner,
        "best_tiou": floats(table.off_best_tiou, table.gen_best_tiou[extra]),
        "match_tiou": floats(table.off_match_tiou, table.gen_match_tiou[extra]),
        "start_diff": floats(table.off_start_diff, nan),
        "end_diff": floats(table.off_end_diff, nan),
        "box_iou_mean": floats(table.off_box_iou_mean, nan),
        "box_iou_min": floats(table.off_box_iou_min, nan),
        "offset_diff": floats(table.off_offset_diff, nan),
        "coverage": floats(table.off_coverage, nan),
        "frame_hits": floats(off_hits, gen_hits),
        "note": note,
    }


def count_rows(rows: SegmentRows) -> int:
    return len(rows["status"])


def rows_as_records(rows: SegmentRows, digits: int = 4) -> list[list[Any]]:
    """Rows as lists in ``ROW_COLUMNS`` order, floats rounded, NaN as None (JSON-ready)."""
    columns: list[list[Any]] = []
    for name in ROW_COLUMNS:
        values = rows[name]
        if name in FLOAT_COLUMNS:
            columns.append([None if v != v else round(v, digits) for v in values.tolist()])
        elif name in INT_COLUMNS:
            columns.append(values.tolist())
        else:
            columns.append(list(values))
    return [list(r) for r in zip(*columns, strict=True)]
