"""Report writers: one object per format, all with ``write(report, path)``, plus a null writer.

Every writer writes to a temporary name in the destination folder and renames it when done
(``voxrepro.atomic``), so a killed run never leaves a half-written report.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

from voxrepro.atomic import atomic_path, write_text_atomic
from voxrepro.audit.report import Report
from voxrepro.audit.rows import ROW_COLUMNS
from voxrepro.errors import InvalidInputError
from voxrepro.types import Pathlike


class ReportWriter(Protocol):
    """Renders a Report to one file."""

    #: name used by ``--formats``
    format_name: str
    #: file name inside the output folder
    filename: str

    def write(self, report: Report, path: Path) -> None: ...


def to_json_safe(value: Any) -> Any:
    """Replace NaN and infinities (invalid JSON) by None, recursively."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: to_json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json_safe(v) for v in value]
    return value


class JsonWriter:
    """``report.json``: the versioned schema documented in the README."""

    format_name = "json"
    filename = "report.json"

    def write(self, report: Report, path: Path) -> None:
        body = report.to_dict()
        segments = body.pop("segments")  # already NaN-free; skip the recursive walk for speed
        body = to_json_safe(body)
        body["segments"] = segments
        write_text_atomic(path, json.dumps(body, allow_nan=False) + "\n")


class CsvWriter:
    """``segments.csv``: one row per table row (``rows.ROW_COLUMNS``); empty cells for NaN."""

    format_name = "csv"
    filename = "segments.csv"

    def write(self, report: Report, path: Path) -> None:
        with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(ROW_COLUMNS)
            for record in report.row_records(digits=6):
                writer.writerow("" if v is None else v for v in record)


class NullWriter:
    """Writes nothing (benchmarks, or callers that only want the summary)."""

    format_name = "null"
    filename = ""

    def write(self, report: Report, path: Path) -> None:
        return None


def available_writers() -> dict[str, ReportWriter]:
    """Every writer by format name (HTML and Markdown imported lazily: matplotlib is slow)."""
    from voxrepro.audit.report_html import HtmlWriter
    from voxrepro.audit.report_md import MarkdownWriter

    writers: list[ReportWriter] = [
        HtmlWriter(),
        MarkdownWriter(),
        JsonWriter(),
        CsvWriter(),
        NullWriter(),
    ]
    return {w.format_name: w for w in writers}


#: Formats written by default (``--formats``), in writing order.
DEFAULT_FORMATS: tuple[str, ...] = ("html", "md", "json", "csv")


def parse_formats(text: str) -> list[str]:
    """``"html,md"`` -> ["html", "md"]; unknown names are a usage error."""
    names = [part.strip().lower() for part in text.split(",") if part.strip()]
    known = set(DEFAULT_FORMATS) | {"null"}
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        raise InvalidInputError(
            f"unknown report format(s) {', '.join(unknown) or '(none)'}; "
            f"choose from {', '.join(sorted(known))}"
        )
    return list(dict.fromkeys(names))


def write_reports(report: Report, out_dir: Pathlike, formats: Iterable[str]) -> dict[str, Path]:
    """Write the report in each format into ``out_dir``; return the paths written by format."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    writers = available_writers()
    written: dict[str, Path] = {}
    for name in formats:
        writer = writers[name]
        if not writer.filename:
            continue
        path = out / writer.filename
        writer.write(report, path)
        written[name] = path
    return written
