"""Report writers: the versioned report.json schema, CSV, Markdown, HTML (static checks), null."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest

from voxrepro.audit import SCHEMA_VERSION, Report, compare_segments
from voxrepro.audit.metrics import CURVE_THRESHOLDS, HEADLINE_METRICS
from voxrepro.audit.rows import ROW_COLUMNS
from voxrepro.audit.writers import (
    DEFAULT_FORMATS,
    NullWriter,
    available_writers,
    parse_formats,
    write_reports,
)
from voxrepro.errors import InvalidInputError
from voxrepro.segment import Segment, make_segment

EVIL = "</script><script>window.pwned=1</script>"


def seg(ref: str, utt: str, start: int, n: int, identity: str = "id00001") -> Segment:
    return make_segment(identity, ref, utt, np.arange(start, start + n),
                        np.tile((0.3, 0.2, 0.4, 0.7), (n, 1)), offset=1)


def small_report() -> Report:
    official = [
        seg("aaaaaaaaaaa", "00001", 0, 100),
        seg("aaaaaaaaaaa", "00002", 200, 100),
        seg("bbbbbbbbbbb", "00001", 0, 100, identity=EVIL),
    ]
    generated = [seg("aaaaaaaaaaa", "g1", 3, 100), seg("ccccccccccc", "g2", 0, 50)]
    return compare_segments(official, generated, inputs={"official": "o", "generated": "g"},
                            problems=["txt/x.txt:3: something odd"])


def test_report_json_schema(tmp_path: Path) -> None:
    report = small_report()
    paths = write_reports(report, tmp_path, ["json"])
    body = json.loads(paths["json"].read_text())
    assert body["schema_version"] == SCHEMA_VERSION == 1
    assert set(body) >= {"schema_version", "tool", "created", "inputs", "parameters", "summary",
                         "curve", "videos", "identities", "unavailable_videos", "clips",
                         "segment_columns", "segments", "problems"}
    for metric in HEADLINE_METRICS:
        value = body["summary"][metric.value]
        assert isinstance(value, float) and 0.0 <= value <= 1.0
    assert body["summary"]["segment_recall"] == pytest.approx(1 / 3)
    assert body["summary"]["segment_precision"] == pytest.approx(1 / 2)
    assert [c["tiou"] for c in body["curve"]] == list(CURVE_THRESHOLDS)
    assert body["segment_columns"] == list(ROW_COLUMNS)
    assert len(body["segments"]) == 4  # 3 official + 1 extra
    assert [s["status"] for s in body["segments"]] == ["matched", "missed", "missed", "extra"]
    missed = body["segments"][1]
    assert missed["start_diff"] is None and missed["box_iou_mean"] is None  # NaN -> null
    assert body["problems"] == ["txt/x.txt:3: something odd"]
    assert body["parameters"]["tiou_threshold"] == 0.5
    assert "NaN" not in paths["json"].read_text()


def test_segments_csv(tmp_path: Path) -> None:
    report = small_report()
    path = write_reports(report, tmp_path, ["csv"])["csv"]
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == list(ROW_COLUMNS)
    assert len(rows) == 1 + report.num_rows
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["status"] == "matched" and first["start_diff"] == "3.0"
    assert math.isclose(float(first["match_tiou"]), 97 / 103, rel_tol=1e-5)
    second = dict(zip(rows[0], rows[2], strict=True))
    assert second["box_iou_mean"] == ""


def test_markdown_report(tmp_path: Path) -> None:
    text = write_reports(small_report(), tmp_path, ["md"])["md"].read_text()
    assert text.startswith("# voxrepro compare report")
    assert "| segment_recall | 0.3333 |" in text
    assert "| 0.5 | 0.3333 | 0.5000 | 0.4000 |" in text
    assert "## Worst 2 videos" in text and "bbbbbbbbbbb" in text
    assert "txt/x.txt:3: something odd" in text


def test_html_is_self_contained_and_escaped(tmp_path: Path) -> None:
    text = write_reports(small_report(), tmp_path, ["html"])["html"].read_text()
    assert text.count('src="data:image/png;base64,') == 5
    assert "http://" not in text and "https://" not in text  # nothing to fetch
    assert EVIL not in text  # neither in the static tables nor in the embedded JSON
    assert "&lt;/script&gt;" in text
    assert '<script type="application/json" id="segment-data">' in text


def test_write_all_default_formats_atomically(tmp_path: Path) -> None:
    paths = write_reports(small_report(), tmp_path / "out", DEFAULT_FORMATS)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "report.html", "report.json", "report.md", "segments.csv"]
    assert set(paths) == set(DEFAULT_FORMATS)


def test_null_writer_writes_nothing(tmp_path: Path) -> None:
    assert write_reports(small_report(), tmp_path, ["null"]) == {}
    assert list(tmp_path.iterdir()) == []
    NullWriter().write(small_report(), tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_every_writer_shares_the_interface(tmp_path: Path) -> None:
    report = small_report()
    for name, writer in available_writers().items():
        assert writer.format_name == name
        if writer.filename:
            writer.write(report, tmp_path / writer.filename)
            assert (tmp_path / writer.filename).stat().st_size > 0


def test_parse_formats() -> None:
    assert parse_formats("html, md,html") == ["html", "md"]
    with pytest.raises(InvalidInputError, match="unknown report format"):
        parse_formats("html,pdf")
    with pytest.raises(InvalidInputError):
        parse_formats(" , ")
