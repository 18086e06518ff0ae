"""End-to-end pipeline runs on CPU with the embedded detector (both modes), edge cases, resume.

The demo's composed video has a known face position in every frame and three shots, so the
pipeline's output can be checked against ground truth; the real videos in ../shared/data/videos
check that visible speaking faces are found and that the written metafiles recrop to clips of
the same length.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from voxrepro.audit.compare import compare_segments
from voxrepro.demo.source import (
    DEMO_REFERENCE,
    iter_reference_segments,
    write_demo_video,
)
from voxrepro.formats import read_segments
from voxrepro.media import VideoWriter, probe_video
from voxrepro.pipeline import Mode, PipelineSettings, run_pipeline
from voxrepro.recrop import run_recrop
from voxrepro.recrop_plan import CropMode, RecropSettings
from voxrepro.syncnet import make_random_syncnet

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo_src")
    return write_demo_video(folder / f"{DEMO_REFERENCE}.mp4")


@pytest.fixture(scope="module", params=[Mode.VOX2, Mode.CENTRED])
def demo_run(request: pytest.FixtureRequest, demo_source: Path, tmp_path_factory) -> tuple:
    out = tmp_path_factory.mktemp(f"demo_{request.param}")
    summary = run_pipeline([demo_source], out, PipelineSettings(mode=request.param))
    return request.param, out, summary


def test_demo_video_gives_one_track_per_shot_matching_the_known_faces(demo_run, demo_source):
    mode, out, summary = demo_run
    (result,) = summary.results
    assert result.status == "done" and result.shots == 3 and result.tracks == 3
    generated = list(read_segments(out / "txt"))
    assert len(generated) == 3
    reference = list(iter_reference_segments(demo_source))
    if mode == Mode.VOX2:
        # Same window geometry as the reference (UP window shifted inside): near-identical boxes.
        report = compare_segments(reference, generated)
        assert report.summary["segment_recall"] == 1.0
        assert report.summary["segment_precision"] == 1.0
        assert report.summary["mean_box_iou"] > 0.8
        boxes = np.concatenate([s.boxes for s in generated])
        assert boxes[:, :2].min() >= 0 and (boxes[:, :2] + boxes[:, 2:]).max() <= 1.0 + 1e-9
    else:
        # Centred windows: the face centre (from ground truth) sits at the window's centre.
        for ref, gen in zip(reference, generated, strict=True):
            shared = np.intersect1d(ref.frames, gen.frames)
            face_cx = (
                ref.boxes[np.searchsorted(ref.frames, shared), 0]
                + ref.boxes[np.searchsorted(ref.frames, shared), 2] / 2
            )
            gen_rows = np.searchsorted(gen.frames, shared)
            window_cx = gen.boxes[gen_rows, 0] + gen.boxes[gen_rows, 2] / 2
            assert np.median(np.abs(face_cx - window_cx)) < 0.02


def test_written_metafiles_recrop_to_clips_of_the_same_length(demo_run, demo_source, tmp_path):
    mode, out, summary = demo_run
    recrop_out = tmp_path / "recrop"
    recrop = run_recrop(
        read_segments(out / "txt"),
        RecropSettings(
            videos=demo_source.parent,
            out=recrop_out,
            mode=CropMode.VOX2 if mode == Mode.VOX2 else CropMode.CENTRED,
        ),
    )
    assert recrop.failed == 0 and recrop.counts["written"] == 3
    for record in summary.results[0].segments:
        pipeline_clip = probe_video(out / record["clip"])
        rebuilt = probe_video(
            recrop_out / "unknown" / DEMO_REFERENCE / f"{record['utterance']}.mp4"
        )
        assert pipeline_clip.num_frames_25 == rebuilt.num_frames_25 == record["frames"]


def test_rerun_skips_done_videos(demo_run, demo_source):
    mode, out, _ = demo_run
    again = run_pipeline([demo_source], out, PipelineSettings(mode=mode))
    assert again.results == [] and again.skipped == [DEMO_REFERENCE]
    assert json.loads((out / "run.json").read_text())["counts"]["videos_skipped_done"] == 1


def _write_plain_video(path: Path, frames: int, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    with VideoWriter(path, width=320, height=180, fps=25, audio_rate=16000) as writer:
        for _ in range(frames):
            writer.write_frame(rng.integers(0, 255, (180, 320, 3), dtype=np.uint8))
        writer.write_audio(np.zeros(frames * 640, np.int16))
    return path


def test_no_face_short_and_corrupt_videos_have_clear_outcomes(tmp_path, demo_source):
    inputs = tmp_path / "in"
    inputs.mkdir()
    _write_plain_video(inputs / "noface.mp4", 60)
    corrupt = inputs / "corrupt.mp4"
    corrupt.write_bytes(demo_source.read_bytes()[:20_000])
    # A face video shorter than min_track: the first 50 timeline frames of the demo.
    short = inputs / "short.mp4"
    subprocess.run(
        [sys.executable, "-c", _CUT_SCRIPT, str(demo_source), str(short), "50"], check=True
    )
    summary = run_pipeline([inputs], tmp_path / "out", PipelineSettings())
    by_ref = {r.reference: r for r in summary.results}
    assert by_ref["corrupt"].status == "failed"
    assert "corrupt.mp4" in by_ref["corrupt"].reason and "\n" not in by_ref["corrupt"].reason
    assert by_ref["noface"].status == "done" and by_ref["noface"].tracks == 0
    assert "no_face_track" in by_ref["noface"].warnings
    assert by_ref["short"].status == "done" and by_ref["short"].tracks == 0
    run = json.loads((tmp_path / "out" / "run.json").read_text())
    assert run["counts"]["videos_failed"] == 1 and run["counts"]["videos"] == 3


_CUT_SCRIPT = """
import sys
from voxrepro.media import write_clip, iter_timeline_frames, read_audio
src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
frames = [f for _, f in iter_timeline_frames(src, 0, n)]
from voxrepro.media import VideoWriter
with VideoWriter(dst, width=frames[0].shape[1], height=frames[0].shape[0], fps=25) as w:
    for f in frames:
        w.write_frame(f)
    w.write_audio(read_audio(src)[: n * 640])
"""


def test_cli_pipeline_with_random_syncnet_weights_scores_tracks(tmp_path, demo_source):
    weights = tmp_path / "syncnet_random.model"
    state = {k: v for k, v in make_random_syncnet(0).state_dict().items() if "num_batches" not in k}
    torch.save(state, weights)
    out = tmp_path / "out"
    cmd = [
        sys.executable,
        "-m",
        "voxrepro",
        "pipeline",
        str(demo_source),
        "--out",
        str(out),
        "--syncnet-weights",
        str(weights),
        "--detect-every",
        "2",
        "--json",
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert record["settings"]["syncnet_weights"] == str(weights)
    assert "syncnet_skipped_no_weights" not in record["warnings"]
    video = json.loads((out / "videos" / f"{DEMO_REFERENCE}.json").read_text())
    assert video["tracks"] == 3
    # Random weights: the segments are whatever the split finds; each track was scored.
    scored = {s["track"] for s in video["segments"]}
    assert all(s["track_sync"]["n_windows"] > 0 for s in video["segments"]) or not scored
    assert record["stages"]["syncnet"]["seconds"] > 0


def test_real_videos_both_modes_find_the_speaking_face(shared_videos: Path, tmp_path: Path):
    videos = sorted(shared_videos.glob("*.mp4"))
    assert videos, "no real videos found"
    for mode in (Mode.VOX2, Mode.CENTRED):
        out = tmp_path / str(mode)
        summary = run_pipeline(videos, out, PipelineSettings(mode=mode), workers=2)
        assert not summary.failed
        for result in summary.results:
            covered = sum(s["frames"] for s in result.segments)
            # One visible speaking face through (nearly) the whole video.
            assert result.tracks >= 1, (mode, result.reference)
            assert covered >= 0.8 * result.frames, (mode, result.reference, covered)
        recrop = run_recrop(
            read_segments(out / "txt"),
            RecropSettings(
                videos=shared_videos,
                out=out / "recrop",
                mode=CropMode.VOX2 if mode == Mode.VOX2 else CropMode.CENTRED,
            ),
        )
        assert recrop.failed == 0
        for result in summary.results:
            for record in result.segments:
                rebuilt = out / "recrop" / "unknown" / result.reference
                n = probe_video(rebuilt / f"{record['utterance']}.mp4").num_frames_25
                assert n == record["frames"], (mode, result.reference, record)


def test_no_clips_writes_the_same_metafiles_and_no_clip(demo_run, demo_source, tmp_path):
    mode, out, _ = demo_run
    if mode != Mode.VOX2:
        pytest.skip("one mode is enough")
    bare = tmp_path / "bare"
    summary = run_pipeline([demo_source], bare, PipelineSettings(mode=mode, write_clips=False))
    (result,) = summary.results
    assert result.status == "done" and len(result.segments) == 3
    assert all(record["clip"] is None for record in result.segments)
    assert not (bare / "clips").exists()
    with_clips = {p.relative_to(out / "txt"): p.read_bytes() for p in (out / "txt").rglob("*.txt")}
    without = {p.relative_to(bare / "txt"): p.read_bytes() for p in (bare / "txt").rglob("*.txt")}
    assert without == with_clips  # same detections, tracks and windows either way
    assert json.loads((bare / "run.json").read_text())["settings"]["write_clips"] is False
