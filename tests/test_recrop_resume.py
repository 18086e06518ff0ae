"""Killing `voxrepro recrop` mid-run (SIGKILL) and rerunning: no partial clip, the rest is done."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from voxrepro import media, synth
from voxrepro.atomic import TEMP_PREFIX
from voxrepro.formats import write_vox2_tree
from voxrepro.recrop import SUMMARY_NAME
from voxrepro.segment import make_segment

REFERENCES = ("killtestAAA", "killtestBBB")
SEGMENT_FRAMES = 40


def _final_clips(out: Path) -> list[Path]:
    return [p for p in out.rglob("*.mp4") if not p.name.startswith(TEMP_PREFIX)]


def _assert_complete(clip: Path) -> None:
    frames = [synth.read_barcode(frame) for _, frame in media.iter_timeline_frames(clip)]
    assert len(frames) == SEGMENT_FRAMES, clip
    assert None not in frames and frames == sorted(frames), clip


@pytest.mark.slow
def test_sigkill_mid_run_then_rerun_finishes_without_partial_clips(tmp_path: Path) -> None:
    videos, metadata, out = tmp_path / "videos", tmp_path / "txt", tmp_path / "out"
    videos.mkdir()
    width, height, region = 640, 360, (200, 100, 160)
    box = [region[0] / width, region[1] / height, region[2] / width, region[2] / height]
    segments = []
    for reference in REFERENCES:
        synth.write_synthetic_video(
            videos / f"{reference}.mp4", num_frames=600, fps=30, width=width, height=height,
            region=region,
        )
        for i in range(24):  # overlapping segments keep several writers open at any moment
            first = 20 * i
            segments.append(
                make_segment(
                    "id00001", reference, f"{i + 1:05d}", range(first, first + SEGMENT_FRAMES),
                    [box] * SEGMENT_FRAMES, dataset="vox2",
                )
            )
    list(write_vox2_tree(segments, metadata))
    command = [sys.executable, "-m", "voxrepro", "recrop", "--metadata", str(metadata)]
    command += ["--videos", str(videos), "--out", str(out), "--size", "224", "--quiet"]

    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while len(_final_clips(out)) < 3 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert process.poll() is None, "recrop finished before it could be killed; make it longer"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    process.stderr.close()

    done_before = _final_clips(out)
    assert 3 <= len(done_before) < len(segments)
    for clip in done_before:  # every clip under its final name is whole
        _assert_complete(clip)

    rerun = subprocess.run([*command[:-1], "--json"], capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    summary = json.loads(rerun.stdout)
    assert summary["skipped"] == len(done_before)
    assert summary["written"] == len(segments) - len(done_before)
    assert summary["failed"] == 0
    assert list(out.rglob(f"{TEMP_PREFIX}*")) == []
    clips = _final_clips(out)
    assert len(clips) == len(segments)
    for clip in clips:
        _assert_complete(clip)
    assert json.loads((out / SUMMARY_NAME).read_text())["written"] == summary["written"]
