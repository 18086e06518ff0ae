"""``voxrepro inspect``: counts on constructed trees, --json keys, exit codes, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from test_formats_factory import small_vox2_tree, vox_text, write_files, zip_files
from typer.testing import CliRunner

from voxrepro.cli import app
from voxrepro.inspect import inspect_metafiles

# small_vox2_tree: frames 100 + 100 + 120 + 75 + 150.
TREE_FRAMES = 545
REQUIRED_KEYS = {"format", "identities", "videos", "segments", "frames", "hours", "problems"}


@pytest.fixture()
def tree_with_one_broken_file(tmp_path: Path) -> tuple[Path, Path]:
    files: dict[str, str] = dict(small_vox2_tree())
    broken = "txt/id00017/_mjZ87sK6cA/00003.txt"
    files[broken] = vox_text("id00017", "_mjZ87sK6cA", range(10))[:-3]  # truncated
    root = write_files(tmp_path / "tree", files)
    return root, root / broken


def _invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["inspect", *args])
    return result.exit_code, result.stdout


def test_inspect_json_has_the_keys_and_correct_counts(
    tree_with_one_broken_file: tuple[Path, Path],
) -> None:
    root, broken = tree_with_one_broken_file
    code, out = _invoke(str(root), "--json")
    assert code == 0
    report = json.loads(out)
    assert set(report) >= REQUIRED_KEYS
    assert report["format"] == "vox2"
    assert (report["identities"], report["videos"], report["segments"]) == (2, 3, 5)
    assert report["frames"] == TREE_FRAMES
    assert report["hours"] == pytest.approx(TREE_FRAMES / 25 / 3600, abs=1e-6)
    assert report["box_units"] == {"normalised": 5}
    assert report["problems"] == [
        {
            "file": str(broken),
            "line": 17,
            "message": "truncated file: no newline after the last row",
        }
    ]
    assert report["problem_count"] == 1


def test_inspect_table_lists_problems_and_strict_sets_exit_status(
    tree_with_one_broken_file: tuple[Path, Path],
) -> None:
    root, broken = tree_with_one_broken_file
    code, out = _invoke(str(root), "--format", "vox2")
    assert code == 0
    assert "identities" in out and "545" in out
    assert f"{broken}:17: truncated file" in out.replace("\n", "")
    assert _invoke(str(root), "--strict", "--quiet")[0] == 1
    broken.unlink()
    code, out = _invoke(str(root), "--strict", "--quiet")
    assert code == 0
    assert (
        out.strip() == "vox2: 2 identities, 3 videos, 5 segments, 545 frames, 0.006 h, 0 problems"
    )


def test_inspect_zip_counts_equal_folder_counts(tmp_path: Path) -> None:
    files = small_vox2_tree()
    folder = inspect_metafiles(write_files(tmp_path / "tree", files))
    archive = inspect_metafiles(zip_files(tmp_path / "vox2_test_txt.zip", files))
    assert folder.to_dict() | {"path": ""} == archive.to_dict() | {"path": ""}
    assert folder.frames == TREE_FRAMES


def test_inspect_counts_languages(tmp_path: Path) -> None:
    root = write_files(
        tmp_path,
        {
            "id0001/English/abcdefghijk/00001.txt": vox_text("id0001", "abcdefghijk", range(5)),
            "id0001/Urdu/abcdefghijk/00002.txt": vox_text("id0001", "abcdefghijk", range(9, 12)),
            "id0002/English/ABCDEFGHIJK/00001.txt": vox_text("id0002", "ABCDEFGHIJK", range(2)),
        },
    )
    summary = inspect_metafiles(root)
    assert summary.format == "mavceleb"
    assert summary.languages == {"English": 2, "Urdu": 1}
    assert (summary.identities, summary.videos, summary.frames) == (2, 2, 10)


def test_bad_box_resolution_is_a_usage_error(tmp_path: Path) -> None:
    root = write_files(tmp_path, small_vox2_tree())
    result = CliRunner().invoke(app, ["inspect", str(root), "--box-resolution", "wide"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "error: --box-resolution: expected WIDTHxHEIGHT in pixels, e.g. 640x360, got 'wide'"
    ]
    code, _ = _invoke(str(root), "--box-resolution", "640x360")  # vox2 boxes are normalised
    assert code == 2


def test_cli_errors_are_one_line(tmp_path: Path) -> None:
    fake_zip = tmp_path / "vox2_test_txt.zip"
    fake_zip.write_bytes(b"not a zip")
    cases = [
        ([str(fake_zip), "--format", "vox2"], "unreadable zip archive"),
        ([str(fake_zip)], "unreadable zip archive"),  # while detecting the format
        ([str(tmp_path), "--format", "vox9"], "unknown format 'vox9'"),
        ([str(tmp_path / "absent"), "--json"], "no such file or folder"),
    ]
    for args, expected in cases:
        result = CliRunner().invoke(app, ["inspect", *args])
        assert result.exit_code == 2, result.output
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error:"), result.output
        assert expected in lines[0]
        assert result.stdout == ""


@pytest.mark.slow
def test_console_script_error_has_no_traceback(tmp_path: Path) -> None:
    # Through ``python -m voxrepro`` (voxrepro.cli.main), as a user runs it.
    run = subprocess.run(
        [sys.executable, "-m", "voxrepro", "inspect", str(tmp_path / "absent")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), run.stderr
    assert "no such file or folder" in lines[0]
    assert "Traceback" not in run.stderr and run.stdout == ""
