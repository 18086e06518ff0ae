"""The 25 fps timeline against the real ffmpeg binary: frame k must be ffmpeg's k-th `-r 25` frame.

Synthetic sources carry their source frame index as a barcode, so "which source frame landed on
tick k" is read back from both decoders and compared exactly (drops, duplicates, start, end).
Real videos are compared on the decoded luma plane, bit for bit.
"""

from __future__ import annotations

import subprocess
from fractions import Fraction
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest

from voxrepro import media, synth
from voxrepro.timeline import CfrSelector, rescale_near_inf

WIDTH, HEIGHT = 160, 128
REGION = (16, 16, 96)
FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()


def ffmpeg_raw(path: Path, pix_fmt: str) -> bytes:
    """`ffmpeg -i SRC -r 25 -f rawvideo` (argument list, exit status checked)."""
    command = [FFMPEG, "-v", "error", "-i", str(path), "-r", "25", "-an"]
    command += ["-pix_fmt", pix_fmt, "-f", "rawvideo", "-"]
    return subprocess.run(command, capture_output=True, check=True).stdout


def ffmpeg_indices(path: Path) -> list[int | None]:
    frames = np.frombuffer(ffmpeg_raw(path, "gray"), np.uint8).reshape(-1, HEIGHT, WIDTH)
    return [synth.read_barcode(frame, REGION) for frame in frames]


def our_indices(path: Path) -> list[int | None]:
    return [synth.read_barcode(frame, REGION) for _, frame in media.iter_timeline_frames(path)]


# (fps, video start s, audio start s, container): 3.3 s of frames each.
SOURCES = [
    pytest.param(25, 0.0, 0.0, ".mp4", id="25fps"),
    pytest.param(30, 0.0, 0.0, ".mp4", id="30fps"),
    pytest.param("30000/1001", 0.0, 0.0, ".mp4", id="29.97fps"),
    pytest.param(24, 0.0, 0.0, ".mp4", id="24fps"),
    pytest.param(50, 0.0, 0.0, ".mp4", id="50fps"),
    pytest.param(30, 0.5, 0.0, ".mp4", id="30fps-video-starts-0.5s-after-audio"),
    pytest.param("30000/1001", 1.0, 0.2, ".mkv", id="29.97fps-file-start-0.2s-video-1.0s"),
    pytest.param(24, 1.0, 1.0, ".mkv", id="24fps-both-start-1.0s"),
]


@pytest.mark.parametrize(("fps", "video_start", "audio_start", "suffix"), SOURCES)
def test_timeline_matches_ffmpeg_r25_frame_for_frame(
    tmp_path: Path, fps: int | str, video_start: float, audio_start: float, suffix: str
) -> None:
    rate = Fraction(fps)
    source = tmp_path / f"src{suffix}"
    synth.write_synthetic_video(
        source,
        num_frames=int(3.3 * rate) + 1,
        fps=rate,
        width=WIDTH,
        height=HEIGHT,
        region=REGION,
        video_start=video_start,
        audio_start=audio_start,
    )
    expected = ffmpeg_indices(source)
    assert None not in expected, "barcode unreadable in ffmpeg's output"
    ours = our_indices(source)
    assert len(ours) == len(expected)
    assert ours == expected
    if rate != 25 or video_start != audio_start:
        # Non-trivial case: the timeline really does drop or duplicate source frames.
        assert expected != list(range(len(expected)))


def test_real_videos_decode_bit_exact_to_ffmpeg(shared_videos: Path) -> None:
    videos = sorted(shared_videos.glob("*.mp4"))
    assert videos
    for path in videos:
        info = media.probe_video(path)
        raw = np.frombuffer(ffmpeg_raw(path, "yuv420p"), np.uint8)
        planes = raw.reshape(-1, info.height * 3 // 2, info.width)[:, : info.height]
        ours = [item.to_grey() for item in media.iter_timeline(path)]
        assert len(ours) == planes.shape[0], path.name
        for k, (luma, expected) in enumerate(zip(ours, planes, strict=True)):
            assert np.array_equal(luma, expected), f"{path.name}: frame {k} differs"


def _pattern(fps: Fraction, frames: int) -> list[int]:
    """Source frame index behind each output tick, for a constant-rate source starting at 0."""
    time_base = 1 / fps
    selector, out = CfrSelector(), []
    for index in range(frames):
        previous, current = selector.push(index, 1, time_base)
        out += [index - 1] * previous + [index] * current
    out += [frames - 1] * selector.flush()
    return out


def test_30fps_drops_one_frame_in_six_after_a_lag() -> None:
    pattern = _pattern(Fraction(30), 60)
    assert pattern == sorted(pattern)
    dropped = sorted(set(range(60)) - set(pattern))
    # Dropping starts only once the drift passes 1.1 output frames (source frame 12), so
    # ffmpeg emits 52 frames for 2 s of 30 fps rather than 50.
    assert dropped == list(range(12, 60, 6))
    assert len(pattern) == 52


def test_24fps_duplicates_one_frame_in_twenty_four() -> None:
    pattern = _pattern(Fraction(24), 48)
    assert len(pattern) == 50
    assert set(pattern) == set(range(48))
    counts = np.bincount(pattern)
    assert sorted(counts.tolist()) == [1] * 46 + [2] * 2


def test_25fps_is_identity() -> None:
    assert _pattern(Fraction(25), 40) == list(range(40))


def test_late_first_frame_is_duplicated_to_fill_the_start() -> None:
    selector = CfrSelector()
    # First frame at 0.2 s (5 ticks late) lasting one tick: ticks 0..5 all show a frame (the
    # "previous" copies come first; media.py uses the first frame itself when there is none).
    previous, current = selector.push(5, 1, Fraction(1, 25))
    assert previous + current == 6
    assert selector.next_index == 6
    assert selector.push(6, 1, Fraction(1, 25)) == (0, 1)


def test_rescale_rounds_halves_away_from_zero() -> None:
    assert rescale_near_inf(1, Fraction(1, 2), Fraction(1)) == 1
    assert rescale_near_inf(-1, Fraction(1, 2), Fraction(1)) == -1
    assert rescale_near_inf(3, Fraction(1, 4), Fraction(1)) == 1
    assert rescale_near_inf(1001, Fraction(1, 30000), Fraction(1, 1_000_000)) == 33367


# --- sparse decoding: only the keyframe intervals holding wanted frames -------------------------


@pytest.fixture(scope="module")
def long_gop_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sparse") / "gop30.mp4"
    return synth.write_synthetic_video(
        path, num_frames=300, fps="30000/1001", width=WIDTH, height=HEIGHT, region=REGION, gop=30
    )


def _decoded_frame_counter(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    from voxrepro.media import sparse

    counter = [0]
    original = sparse._decode

    def counting(container, stream):  # type: ignore[no-untyped-def]
        for frame in original(container, stream):
            counter[0] += 1
            yield frame

    monkeypatch.setattr(sparse, "_decode", counting)
    return counter


def test_sparse_decoding_yields_exactly_the_wanted_frames_and_skips_the_rest(
    long_gop_source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reference = {item.index: item.to_grey().copy() for item in media.iter_timeline(long_gop_source)}
    wanted = [3, 4, 5, 120, 121, 240, len(reference) - 1, len(reference) + 7]
    counter = _decoded_frame_counter(monkeypatch)
    timeline = media.iter_timeline(long_gop_source, wanted=wanted)
    got = {item.index: item.to_grey() for item in timeline}
    assert sorted(got) == [k for k in wanted if k < len(reference)]
    for index, luma in got.items():
        assert np.array_equal(luma, reference[index]), index
    # 4 runs of at most one 30-frame keyframe interval each, not the 300 source frames.
    assert 0 < counter[0] <= 4 * 31


@pytest.mark.parametrize(("fps", "video_start", "audio_start", "suffix"), SOURCES[5:])
def test_sparse_equals_sequential_with_start_offsets(
    tmp_path: Path, fps: int | str, video_start: float, audio_start: float, suffix: str
) -> None:
    source = synth.write_synthetic_video(
        tmp_path / f"s{suffix}", num_frames=120, fps=Fraction(fps), width=WIDTH, height=HEIGHT,
        region=REGION, video_start=video_start, audio_start=audio_start, gop=12,
    )
    full = [(k, synth.read_barcode(f, REGION)) for k, f in media.iter_timeline_frames(source)]
    wanted = [*range(0, len(full), 7), len(full) - 1]
    timeline = media.iter_timeline(source, wanted=wanted)
    sparse = [(i.index, synth.read_barcode(i.to_bgr(), REGION)) for i in timeline]
    assert sparse == [full[k] for k in sorted(set(wanted))]
    assert media.timeline_length(source) == len(full)


def test_sparse_falls_back_to_decoding_everything_on_plan_mismatch(
    long_gop_source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from voxrepro.media import decode, sparse

    def refuse(container, stream):  # type: ignore[no-untyped-def]
        raise sparse.PlanMismatch("test")

    monkeypatch.setattr(decode, "plan_timeline", refuse)
    wanted = [10, 200, 201]
    timeline = media.iter_timeline(long_gop_source, wanted=wanted)
    got = [(i.index, synth.read_barcode(i.to_bgr(), REGION)) for i in timeline]
    frames = media.iter_timeline_frames(long_gop_source)
    full = {k: synth.read_barcode(f, REGION) for k, f in frames}
    assert got == [(k, full[k]) for k in wanted]
