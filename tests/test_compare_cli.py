"""``voxrepro compare``: exit codes, --json keys, report files, state discovery, pipeline dirs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from voxrepro.cli import app
from voxrepro.failures import FailureClass, FailureReason
from voxrepro.formats import write_vox2_tree
from voxrepro.segment import Segment, make_segment
from voxrepro.store import STATE_FILENAME, DownloadStore

REFS = ("aaaaaaaaaaa", "bbbbbbbbbbb", "ccccccccccc")
JSON_KEYS = {"schema_version", "summary", "reports", "problems", "fail_under", "passed"}
HEADLINE = {"segment_recall", "segment_precision", "segment_f1", "frame_recall",
            "frame_precision", "mean_box_iou"}


def seg(ref: str, utt: str, start: int, n: int, identity: str = "id00001") -> Segment:
    return make_segment(identity, ref, utt, np.arange(start, start + n),
                        np.tile((0.319, 0.067, 0.424, 0.753), (n, 1)), offset=2, fv_conf=16.1,
                        asd_conf=5.1, extra={"raw_header": {}})


def official_segments() -> list[Segment]:
    return [seg(ref, f"{u:05d}", 300 * u, 100) for ref in REFS for u in range(1, 4)]  # 9


def write_tree(folder: Path, segments: list[Segment]) -> Path:
    list(write_vox2_tree(segments, folder))
    return folder


@pytest.fixture()
def trees(tmp_path: Path) -> tuple[Path, Path]:
    official = official_segments()
    generated = [s for s in official if s.reference != REFS[2]]  # 6 of 9 found
    return (write_tree(tmp_path / "official", official),
            write_tree(tmp_path / "generated", generated))


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["compare", *args])
    return result.exit_code, result.stdout, result.stderr


def test_json_summary_and_reports(trees: tuple[Path, Path], tmp_path: Path) -> None:
    official, generated = trees
    code, out, _ = invoke("--official", str(official), "--generated", str(generated),
                          "--out", str(tmp_path / "r"), "--json")
    assert code == 0
    body = json.loads(out)
    assert set(body) == JSON_KEYS
    assert set(body["summary"]) >= HEADLINE
    assert body["summary"]["segment_recall"] == pytest.approx(6 / 9)
    assert body["summary"]["segment_precision"] == 1.0
    assert body["schema_version"] == 1 and body["passed"] is None
    assert sorted(Path(p).name for p in body["reports"].values()) == [
        "report.html", "report.json", "report.md", "segments.csv"]
    saved = json.loads((tmp_path / "r" / "report.json").read_text())
    assert saved["summary"] == body["summary"]
    assert saved["inputs"]["official_format"] == "vox2"


def test_fail_under_sets_exit_status(trees: tuple[Path, Path], tmp_path: Path) -> None:
    official, generated = trees
    base = ["--official", str(official), "--generated", str(generated), "--out",
            str(tmp_path / "r"), "--formats", "json"]
    code, out, _ = invoke(*base, "--fail-under", "0.9", "--json")
    assert code == 1 and json.loads(out)["passed"] is False
    code, out, _ = invoke(*base, "--fail-under", "0.6", "--json")
    assert code == 0 and json.loads(out)["passed"] is True
    code, _, err = invoke(*base, "--fail-under", "0.9", "--quiet")
    assert code == 1 and "below --fail-under 0.9" in err


def test_missing_input_is_one_line_and_exit_2(trees: tuple[Path, Path], tmp_path: Path) -> None:
    official, _ = trees
    code, out, err = invoke("--official", str(official), "--generated",
                            str(tmp_path / "nope"), "--out", str(tmp_path / "r"), "--json")
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "nope: no such file or folder" in lines[0]
    assert lines[0].startswith("error:")
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--tiou", "1.5"], "--tiou must be in (0, 1]"),
        (["--box-iou", "0"], "--box-iou must be in (0, 1]"),
        (["--formats", "html,pdf"], "unknown report format"),
        (["--clips", "."], "go together"),
        (["--pixel-resolution", "wide"], "bad resolution"),
        (["--state", "missing.sqlite3"], "no such file"),
    ],
)
def test_usage_errors_exit_2(
    trees: tuple[Path, Path], tmp_path: Path, extra: list[str], message: str
) -> None:
    official, generated = trees
    code, _, err = invoke("--official", str(official), "--generated", str(generated),
                          "--out", str(tmp_path / "r"), *extra)
    assert code == 2 and message in err


def test_formats_option_and_terminal_tables(trees: tuple[Path, Path], tmp_path: Path) -> None:
    official, generated = trees
    code, out, err = invoke("--official", str(official), "--generated", str(generated),
                            "--out", str(tmp_path / "r"), "--formats", "md,csv")
    assert code == 0 and out == ""
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == ["report.md", "segments.csv"]
    assert "segment_recall" in err and "worst 10 videos" in err and REFS[2] in err


def test_pipeline_folder_with_state_found_beside_it(tmp_path: Path) -> None:
    official = write_tree(tmp_path / "official", official_segments())
    run = tmp_path / "run"
    generated = [make_segment("unknown", s.reference, f"g{i}", s.frames, s.boxes)
                 for i, s in enumerate(official_segments()) if s.reference == REFS[0]]
    write_tree(run / "txt", generated)
    (run / "run.json").write_text("{}")
    with DownloadStore(run / STATE_FILENAME) as store:
        store.start_attempt(REFS[1])
        store.mark_failed(REFS[1], FailureClass.PERMANENT, FailureReason.COPYRIGHT, "claim")
        store.start_attempt(REFS[0])
        store.mark_failed(REFS[0], FailureClass.TRANSIENT, FailureReason.TIMEOUT, "slow")
    code, out, _ = invoke("--official", str(official), "--generated", str(run),
                          "--out", str(tmp_path / "r"), "--json", "--formats", "json")
    assert code == 0
    summary = json.loads(out)["summary"]
    # REFS[0] has generated segments (so it was available); REFS[1] failed; REFS[2] is absent
    # from the state database: both unavailable, their 6 segments are not "missed".
    assert summary["unavailable_segments"] == 6 and summary["missed_segments"] == 0
    assert summary["segment_recall"] == 1.0
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert report["inputs"]["generated_kind"] == "pipeline"
    assert report["inputs"]["state"] == str(run / STATE_FILENAME)
    reasons = {u["reference"]: u["reason"] for u in report["unavailable_videos"]}
    assert reasons == {REFS[1]: "copyright", REFS[2]: "not_in_state"}


def test_broken_metafile_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    official = write_tree(tmp_path / "official", official_segments())
    generated = write_tree(tmp_path / "generated", official_segments())
    broken = generated / "id00001" / REFS[0] / "00002.txt"
    broken.write_text(broken.read_text()[:60])
    code, out, _ = invoke("--official", str(official), "--generated", str(generated),
                          "--out", str(tmp_path / "r"), "--json", "--formats", "json")
    assert code == 0
    body = json.loads(out)
    assert body["problems"] >= 1
    assert body["summary"]["segment_recall"] == pytest.approx(8 / 9)
    saved = json.loads((tmp_path / "r" / "report.json").read_text())
    assert any("00002.txt" in p for p in saved["problems"])


def test_pipeline_folder_without_txt_is_refused(tmp_path: Path) -> None:
    official = write_tree(tmp_path / "official", official_segments())
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "run.json").write_text("{}")
    code, _, err = invoke("--official", str(official), "--generated", str(tmp_path / "run"),
                          "--out", str(tmp_path / "r"))
    assert code == 2 and "without a txt/ tree" in err
