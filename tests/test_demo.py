"""`voxrepro demo` end to end: offline, no weights, every job, ending with the audit report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def test_demo_runs_every_job_and_ends_with_a_report(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    done = subprocess.run(
        [sys.executable, "-m", "voxrepro", "demo", "--out", str(out), "--json"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    paths = {name: Path(path) for name, path in result["paths"].items()}
    # Downloaded through yt-dlp from the loopback server, not copied.
    assert result["download"]["status"] == "done"
    assert (paths["videos"] / "download_state.sqlite3").is_file()
    assert len(list(paths["reference_metafiles"].rglob("*.txt"))) == 3
    for mode in ("vox2", "centred"):
        assert result[f"recrop_{mode}"]["written"] == 3
        assert result[f"pipeline_{mode}"] == {"shots": 3, "tracks": 3, "segments": 3}
        assert result[f"pipeline_{mode}_recrop"]["written"] == 3
        assert len(list((paths[f"rebuild_{mode}"]).rglob("*.mp4"))) == 3
    # The audit of the vox2 pipeline against the known faces: every segment found.
    assert result["compare"]["segment_recall"] == 1.0
    assert result["compare"]["segment_precision"] == 1.0
    assert result["compare"]["mean_box_iou"] > 0.8
    report = paths["report"]
    assert report.name == "report.html" and report.is_file()
    summary = json.loads((report.parent / "report.json").read_text())["summary"]
    assert summary["segment_recall"] == 1.0
