"""``voxrepro download`` end to end through the console entry point (loopback server only)."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from voxrepro.cli import main
from voxrepro.loopback import LoopbackServer
from voxrepro.store import read_video_states
from voxrepro.synth import write_synthetic_video

GOOD, GONE = "goodvideo01", "gonevideo01"


@pytest.fixture(scope="module")
def www(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("www")
    clip = write_synthetic_video(
        root / f"{GOOD}.mp4", num_frames=25, width=96, height=64, region=None, audio_rate=16_000
    )
    shutil.copyfile(clip, root / f"{GONE}.mp4")
    return root


@pytest.fixture()
def server(www: Path) -> Iterator[LoopbackServer]:
    with LoopbackServer(www, {f"/{GONE}.mp4": 404}) as running:
        yield running


def run_cli(
    args: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> tuple[int, str, str]:
    """Run ``voxrepro <args>`` in this process; return (exit code, stdout, stderr)."""
    monkeypatch.setenv("COLUMNS", "200")  # keep rich from wrapping long paths in messages
    monkeypatch.setattr(sys, "argv", ["voxrepro", *args])
    with pytest.raises(SystemExit) as info:
        main()
    captured = capsys.readouterr()
    code = info.value.code
    return (code if isinstance(code, int) else 0), captured.out, captured.err


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


@pytest.mark.network
def test_all_done_exits_0_and_rerun_makes_no_request(
    tmp_path: Path,
    server: LoopbackServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = tmp_path / "out"
    template = server.base_url + "/{id}.mp4"
    args = ["download", GOOD, "--out", str(out), "--url-template", template, "--json"]
    code, stdout, stderr = run_cli(args, capsys, monkeypatch)
    assert code == 0, stderr
    report = json.loads(stdout)
    assert report["by_status"] == {"pending": 0, "done": 1, "failed": 0}
    [video] = report["videos"]
    assert video["id"] == GOOD and video["width"] == 96 and video["height"] == 64
    assert (out / f"{GOOD}.mp4").is_file()

    server.clear_log()
    code, stdout, _ = run_cli(args, capsys, monkeypatch)
    assert code == 0
    assert json.loads(stdout)["skipped"] == 1
    assert server.requests == []


@pytest.mark.network
def test_a_failure_exits_1_with_summary_tables(
    tmp_path: Path,
    server: LoopbackServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = tmp_path / "out"
    listing = tmp_path / "ids.txt"
    listing.write_text(f"# two videos\n{GOOD}\tok\n{GONE}\tremoved\n", encoding="utf-8")
    template = server.base_url + "/{id}.mp4"
    args = ["download", "--from", str(listing), "-o", str(out), "--url-template", template]
    code, stdout, stderr = run_cli([*args, "--workers", "2", "--backoff", "0"], capsys, monkeypatch)
    assert code == 1
    assert stdout == ""  # human output goes to stderr
    assert "failures by reason" in stderr and "http_404" in stderr
    assert GONE in stderr and "permanent" in stderr
    states = read_video_states(out)
    assert states[GONE].reason == "http_404" and states[GOOD].status.value == "done"

    # --retry-failed asks the server again (and it still says 404).
    server.clear_log()
    code, _, _ = run_cli([*args, "--retry-failed", "--quiet"], capsys, monkeypatch)
    assert code == 1
    assert [r.path for r in server.requests] == [f"/{GONE}.mp4"]
    assert read_video_states(out)[GONE].attempts == 2


@pytest.mark.network
def test_invalid_ids_are_rejected_before_any_request(
    tmp_path: Path,
    server: LoopbackServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = tmp_path / "out"
    template = server.base_url + "/{id}.mp4"
    code, _, stderr = run_cli(
        ["download", "../../etc", "--out", str(out), "--url-template", template],
        capsys,
        monkeypatch,
    )
    assert code == 2
    assert server.requests == []
    lines = error_lines(stderr)
    assert lines[0] == (
        "error: <command line>: invalid YouTube id '../../etc' (expected 11 of A-Z a-z 0-9 _ -)"
    )
    assert "no valid video ids" in lines[-1]
    assert not (tmp_path / "etc").exists()

    # With a valid id beside it, the valid one still runs and the exit status says 1.
    code, stdout, stderr = run_cli(
        ["download", "../../etc", GOOD, "--out", str(out), "--url-template", template, "--json"],
        capsys,
        monkeypatch,
    )
    assert code == 1
    assert len(error_lines(stderr)) == 1 and "'../../etc'" in stderr
    report = json.loads(stdout)
    assert report["by_status"]["done"] == 1
    assert report["rejected"][0]["message"].startswith("invalid YouTube id '../../etc'")
    assert {r.path for r in server.requests} == {f"/{GOOD}.mp4"}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ([], "no valid video ids given"),
        (["abcdefghijk", "--workers", "0"], "--workers must be at least 1"),
        (["abcdefghijk", "--retries", "-2"], "--retries must be 0 or more"),
        (["abcdefghijk", "--url-template", "http://127.0.0.1:9/video"], "must contain {id}"),
        (["--from", "missing-list.txt"], "missing-list.txt: no such file or folder"),
    ],
)
def test_usage_errors_exit_2_with_one_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    extra: list[str],
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    code, stdout, stderr = run_cli(
        ["download", "--out", str(tmp_path / "out"), *extra], capsys, monkeypatch
    )
    assert code == 2
    assert stdout == ""
    [line] = error_lines(stderr)
    assert message in line
    assert not (tmp_path / "out" / "download_state.sqlite3").exists()


def test_missing_out_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, stderr = run_cli(["download", "abcdefghijk"], capsys, monkeypatch)
    assert code == 2
    assert "--out" in stderr
