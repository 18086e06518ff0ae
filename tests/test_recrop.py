"""recrop: frame-exact clips from barcode sources, both crop modes, failures, resume, CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from voxrepro import crop, media, synth
from voxrepro.cli import app
from voxrepro.formats import write_vox2_tree
from voxrepro.recrop import SUMMARY_NAME, run_recrop
from voxrepro.recrop_plan import CropMode, RecropSettings, clip_path, pixel_boxes
from voxrepro.segment import BoxUnits, Segment, make_segment

WIDTH, HEIGHT = 500, 250
REGION = (100, 50, 100)  # barcode square; as a normalised box: 0.2 0.2 0.2 0.4 (exact in %.3f)
BARCODE_BOX = [0.2, 0.2, 0.2, 0.4]
REF_30, REF_2997 = "src30fpsAAA", "src2997fpsA"


def barcode_timeline(path: Path) -> list[int | None]:
    """Source frame index shown on each 25 fps frame (the timeline equals ffmpeg -r 25)."""
    return [synth.read_barcode(frame, REGION) for _, frame in media.iter_timeline_frames(path)]


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> Path:
    videos = tmp_path_factory.mktemp("videos")
    for reference, fps in ((REF_30, Fraction(30)), (REF_2997, Fraction(30000, 1001))):
        synth.write_synthetic_video(
            videos / f"{reference}.mp4",
            num_frames=int(4 * fps),
            fps=fps,
            width=WIDTH,
            height=HEIGHT,
            region=REGION,
        )
    return videos


def vox2_segment(identity: str, reference: str, utterance: str, first: int, last: int) -> Segment:
    count = last - first + 1
    return make_segment(
        identity, reference, utterance, range(first, last + 1), [BARCODE_BOX] * count,
        dataset="vox2", offset=0, fv_conf=1.0, asd_conf=1.0,
    )


def test_clips_are_frame_exact_with_matching_audio(sources: Path, tmp_path: Path) -> None:
    segments = [
        vox2_segment("id00001", REF_30, "00001", 5, 40),
        vox2_segment("id00001", REF_30, "00002", 30, 80),  # overlaps the first
        vox2_segment("id00002", REF_2997, "00001", 0, 24),
        vox2_segment("id00002", REF_2997, "00002", 61, 90),
    ]
    metadata = tmp_path / "txt"
    list(write_vox2_tree(segments, metadata))
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        ["recrop", "--metadata", str(metadata), "--videos", str(sources), "--out", str(out), "-q"],
    )
    assert result.exit_code == 0, result.output
    timelines = {ref: barcode_timeline(sources / f"{ref}.mp4") for ref in (REF_30, REF_2997)}
    for segment in segments:
        clip = out / segment.identity / segment.reference / f"{segment.utterance}.mp4"
        info = media.probe_video(clip)
        assert (info.width, info.height, info.fps) == (224, 224, 25)
        got = [synth.read_barcode(frame) for _, frame in media.iter_timeline_frames(clip)]
        expected = [timelines[segment.reference][k] for k in segment.frames]
        assert got == expected, clip
        # 16 kHz audio of (last - first + 1) / 25 s, within one AAC frame.
        audio = media.read_audio(clip)
        assert abs(audio.shape[0] - segment.num_frames * 640) <= 1024
    # The 29.97 fps source really skips source frames inside a clip.
    second = [timelines[REF_2997][k] for k in range(61, 91)]
    assert len(set(np.diff(second))) > 1
    summary = json.loads((out / SUMMARY_NAME).read_text())
    assert (summary["written"], summary["skipped"], summary["failed"]) == (4, 0, 0)
    assert summary["sources"] == 2 and "360 px high" in summary["settings"]["box_assumption"]


def test_audio_is_the_unshifted_source_span(tmp_path: Path) -> None:
    # A 1 kHz tone switched on at exactly 2.0 s (frame 50): in a clip of frames 30..59 it starts
    # 20 frames in, i.e. the audio is cut at first/25 with no shift.
    videos = tmp_path / "v"
    videos.mkdir()
    reference = "toneAAAAAAA"
    source = videos / f"{reference}.mp4"
    silence, tone = np.zeros(32000, np.int16), synth.make_tone(2.0, 16000, 1000.0, 0.5)
    with media.VideoWriter(source, width=64, height=64, fps=25, audio_rate=16000) as writer:
        for image in synth.iter_frames(100, 64, 64, None):
            writer.write_frame(image)
        writer.write_audio(np.concatenate([silence, tone]))
    segments = [
        make_segment("id1", reference, "a", range(30, 60), [[0, 0, 1, 1]] * 30, dataset="vox2"),
    ]
    run_recrop(segments, RecropSettings(videos, tmp_path / "out"))
    audio = media.read_audio(tmp_path / "out" / "id1" / reference / "a.mp4")
    onset = int(np.argmax(np.abs(audio) > 3000))
    assert onset == pytest.approx((50 - 30) * 640, abs=200)


@pytest.fixture(scope="module")
def edge_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    videos = tmp_path_factory.mktemp("edge")
    synth.write_synthetic_video(
        videos / "edgeAAAAAAA.mp4", num_frames=20, fps=25, width=320, height=180, region=None,
        audio_rate=None,
    )
    return videos


def _first_frames(videos: Path, mode: CropMode, box: list[float], out: Path) -> np.ndarray:
    segment = make_segment("id9", "edgeAAAAAAA", "00001", range(3, 8), [box] * 5, dataset="vox2")
    summary = run_recrop([segment], RecropSettings(videos, out, mode))
    assert summary.counts["written"] == 1
    clip = clip_path(out, segment)
    assert not media.probe_video(clip).has_audio
    return next(media.iter_timeline_frames(clip))[1].astype(np.int16)


def test_vox2_mode_shifts_the_window_inside_without_padding(
    edge_source: Path, tmp_path: Path
) -> None:
    # Box 100x100 px sticking 40 px out of the right edge of a 320x180 frame.
    box = [260 / 320, 40 / 180, 100 / 320, 100 / 180]
    got = _first_frames(edge_source, CropMode.VOX2, box, tmp_path / "vox2")
    frame = dict(media.iter_timeline_frames(edge_source / "edgeAAAAAAA.mp4", 3, 4))[3]
    window = crop.vox2_windows(pixel_boxes_for(box, 320, 180), 320, 180)[0]
    assert window.tolist() == [220, 40, 320, 140]  # shifted left by 40, same size
    expected = media.resize_square(frame[40:140, 220:320], 224).astype(np.int16)
    assert np.abs(got - expected).mean() < 4  # the frame's own pixels, up to H.264 loss
    grey = np.all(np.abs(got - 110) <= 6, axis=2)
    assert grey.mean() < 0.05  # no padding band


def test_centred_mode_pads_with_grey_110(edge_source: Path, tmp_path: Path) -> None:
    box = [260 / 320, 40 / 180, 100 / 320, 100 / 180]  # centred window [260, 360): 40% outside
    got = _first_frames(edge_source, CropMode.CENTRED, box, tmp_path / "centred")
    right_band = got[:, int(224 * 0.62) :]
    left_part = got[:, : int(224 * 0.55)]
    assert np.abs(right_band - 110).max() <= 6  # grey 110 where the window leaves the frame
    assert np.abs(left_part - 110).mean() > 15  # the picture itself elsewhere


def pixel_boxes_for(box: list[float], width: int, height: int) -> np.ndarray:
    return crop.normalised_to_pixels(np.array([box]), width, height)


def test_bad_inputs_are_recorded_and_the_batch_goes_on(sources: Path, tmp_path: Path) -> None:
    videos = tmp_path / "videos"
    videos.mkdir()
    for name in (f"{REF_30}.mp4",):
        (videos / name).symlink_to(sources / name)
    (videos / "corruptAAAA.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"garbage" * 500)
    segments = [
        vox2_segment("id1", "corruptAAAA", "00001", 0, 10),
        vox2_segment("id1", "missingAAAA", "00001", 0, 10),
        vox2_segment("id1", REF_30, "00001", 90, 130),  # 4 s of 30 fps: ~100 frames at 25 fps
        vox2_segment("id1", REF_30, "00002", 0, 9),
        vox2_segment("id1", REF_30, "00003", 500, 510),
    ]
    metadata = tmp_path / "txt"
    list(write_vox2_tree(segments, metadata))
    out = tmp_path / "out"
    args = ["recrop", "--metadata", str(metadata), "--videos", str(videos), "--out", str(out)]
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 1
    summary = json.loads(result.stdout)
    assert summary["written"] == 1, [f["message"] for f in summary["failures"]]
    assert summary["failed_by_reason"] == {"corrupt_source": 1, "missing_source": 1, "past_end": 2}
    messages = {f["reference"] + "/" + f["utterance"]: f["message"] for f in summary["failures"]}
    corrupt = messages["corruptAAAA/00001"]
    assert "corruptAAAA.mp4" in corrupt and "\n" not in corrupt
    assert "missingAAAA" in messages["missingAAAA/00001"]
    last = sum(1 for _ in media.iter_timeline(sources / f"{REF_30}.mp4")) - 1
    assert f"ends at frame {last}" in messages[f"{REF_30}/00001"]
    assert f"ends at frame {last}" in messages[f"{REF_30}/00003"]
    assert (out / "id1" / REF_30 / "00002.mp4").is_file()
    assert not (out / "id1" / REF_30 / "00001.mp4").exists()
    assert not [p for p in out.rglob(".tmp-*")]
    assert json.loads((out / SUMMARY_NAME).read_text())["failed"] == 4


def test_rerun_skips_finished_clips_and_removes_stale_temps(sources: Path, tmp_path: Path) -> None:
    segments = [vox2_segment("id1", REF_30, f"{i:05d}", 10 * i, 10 * i + 9) for i in range(3)]
    settings = RecropSettings(sources, tmp_path / "out")
    first = run_recrop(segments, settings)
    assert first.counts["written"] == 3
    stale = tmp_path / "out" / "id1" / REF_30 / ".tmp-999-00009.mp4"
    stale.write_bytes(b"half a clip")
    clip = tmp_path / "out" / "id1" / REF_30 / "00001.mp4"
    clip.unlink()
    second = run_recrop(segments, settings)
    assert (second.counts["written"], second.counts["skipped"]) == (1, 2)
    assert not stale.exists() and clip.is_file()


def test_unsafe_ids_never_write_outside_the_output_root(sources: Path, tmp_path: Path) -> None:
    bad = vox2_segment("id1", REF_30, "00001", 0, 4)
    bad.identity = ".."
    summary = run_recrop([bad], RecropSettings(sources, tmp_path / "out"))
    assert summary.failed_by_reason == {"invalid_segment": 1}
    assert "unsafe identity" in summary.failures[0]["message"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [SUMMARY_NAME]


def test_pixel_boxes_assume_a_360_px_high_frame_unless_told() -> None:
    segment = make_segment(
        "id1", "x" * 11, "1", [0], [[100, 50, 40, 40]], box_units=BoxUnits.PIXELS, dataset="vox1"
    )
    assert pixel_boxes(segment, 1280, 720, None).tolist() == [[200, 100, 80, 80]]
    assert pixel_boxes(segment, 1280, 720, (1280, 720)).tolist() == [[100, 50, 40, 40]]
    segment.extra["box_resolution"] = (640, 480)
    assert pixel_boxes(segment, 1280, 720, None).tolist() == [[200, 75, 80, 60]]


def test_celebvhq_clips_use_their_own_rule_at_512(sources: Path, tmp_path: Path) -> None:
    clip_id = f"{REF_30}_0"
    info = {
        "meta_info": {},
        "clips": {
            clip_id: {
                "ytb_id": REF_30,
                "duration": {"start_sec": 1.0, "end_sec": 2.0},
                "bbox": {"top": 0.2, "bottom": 0.6, "left": 0.2, "right": 0.4},
                "attributes": {},
                "version": "v0.1",
            }
        },
    }
    metadata = tmp_path / "celebvhq_info.json"
    metadata.write_text(json.dumps(info))
    out = tmp_path / "out"
    args = ["recrop", "--metadata", str(metadata), "--videos", str(sources), "--out", str(out)]
    result = CliRunner().invoke(app, [*args, "-q"])
    assert result.exit_code == 0, result.output
    clip = out / f"{clip_id}.mp4"
    probe = media.probe_video(clip)
    assert (probe.width, probe.height) == (512, 512)
    assert len(list(media.iter_timeline_frames(clip))) == 25  # [1.0, 2.0) s at 25 fps


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--metadata", "/nonexistent/txt"], "/nonexistent/txt: no such file or folder"),
        (["--size", "223"], "--size must be even"),
        (["--resolution", "640by360"], "WIDTHxHEIGHT"),
    ],
)
def test_usage_errors_exit_2_with_one_line(
    tmp_path: Path, extra: list[str], expected: str
) -> None:
    metadata = tmp_path / "txt"
    list(write_vox2_tree([vox2_segment("id1", REF_30, "00001", 0, 4)], metadata))
    args = {"--metadata": str(metadata), "--videos": str(tmp_path), "--out": str(tmp_path / "o")}
    for key, value in zip(extra[::2], extra[1::2], strict=True):
        args[key] = value
    command = [sys.executable, "-m", "voxrepro", "recrop", *[x for kv in args.items() for x in kv]]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_two_worker_processes_give_the_same_clips(sources: Path, tmp_path: Path) -> None:
    segments = [
        vox2_segment("id1", REF_30, "00001", 0, 20),
        vox2_segment("id1", REF_2997, "00001", 10, 30),
        vox2_segment("id2", REF_2997, "00002", 50, 60),
    ]
    summary = run_recrop(segments, RecropSettings(sources, tmp_path / "out"), workers=2)
    assert summary.counts["written"] == 3 and summary.sources == 2
    for segment in segments:
        clip = clip_path(tmp_path / "out", segment)
        got = [synth.read_barcode(frame) for _, frame in media.iter_timeline_frames(clip)]
        timeline = barcode_timeline(sources / f"{segment.reference}.mp4")
        assert got == [timeline[k] for k in segment.frames]


def test_several_workers_each_get_their_share_of_the_cores(
    sources: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import voxrepro.recrop as recrop_module
    from voxrepro.cpu_budget import limit_cpu_threads, threads_per_worker

    pools: list[tuple[object, tuple[int, ...]]] = []
    decoders: list[object] = []

    def serial_pool(fn, jobs, workers, initializer=None, initargs=()):  # type: ignore[no-untyped-def]
        pools.append((initializer, initargs))  # not run here: it would cap this test process
        return (fn(job) for job in jobs)

    real_iter = media.iter_timeline

    def recording_iter(*args, **kwargs):  # type: ignore[no-untyped-def]
        decoders.append(kwargs.get("threads"))
        return real_iter(*args, **kwargs)

    monkeypatch.setattr(recrop_module, "run_parallel", serial_pool)
    monkeypatch.setattr(media, "iter_timeline", recording_iter)
    segments = [vox2_segment("id1", REF_30, "00001", 0, 10)]
    share = threads_per_worker(4)
    summary = run_recrop(segments, RecropSettings(sources, tmp_path / "a"), workers=4)
    assert summary.counts["written"] == 1
    assert pools == [(limit_cpu_threads, (share,))]
    assert decoders == [share]
    assert summary.settings["threads_per_worker"] == share
    assert summary.settings["decode_threads"] == share
    # an explicit decoder thread count is kept; one worker leaves FFmpeg its own choice
    run_recrop(segments, RecropSettings(sources, tmp_path / "b", decode_threads=3), workers=4)
    single = run_recrop(segments, RecropSettings(sources, tmp_path / "c"), workers=1)
    assert decoders[1:] == [3, True]
    assert pools[2] == (None, ()) and single.settings["decode_threads"] == "auto"
