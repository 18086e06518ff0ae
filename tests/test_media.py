"""media.py: probing, partial decoding, window conversion, audio alignment, writers, errors."""

from __future__ import annotations

import subprocess
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest

from voxrepro import media, synth
from voxrepro.errors import DecodeError

REGION = (16, 16, 96)


@pytest.fixture(scope="module")
def source_30fps(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("media") / "src30.mp4"
    return synth.write_synthetic_video(
        path, num_frames=120, fps=30, width=160, height=128, region=REGION
    )


def test_probe_reports_stream_parameters(source_30fps: Path) -> None:
    info = media.probe_video(source_30fps)
    assert (info.width, info.height, info.fps) == (160, 128, 30)
    assert info.duration == pytest.approx(4.0, abs=0.05)
    assert info.num_frames_25 == 100
    assert info.has_audio and info.audio_codec == "aac" and info.audio_rate == 44100
    assert info.video_codec == "h264"


def test_start_and_stop_select_a_window_of_the_timeline(source_30fps: Path) -> None:
    full = [(k, synth.read_barcode(f, REGION)) for k, f in media.iter_timeline_frames(source_30fps)]
    part = [
        (k, synth.read_barcode(f, REGION))
        for k, f in media.iter_timeline_frames(source_30fps, start=40, stop=47)
    ]
    assert part == full[40:47]


def test_stopping_early_does_not_decode_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from voxrepro.media import decode

    long_source = synth.write_synthetic_video(
        tmp_path / "long.mp4", num_frames=400, fps=25, width=160, height=128, region=REGION,
        audio_rate=None,
    )
    decoded = [0]
    original = decode._decode_checked

    def counting(container, stream, path):  # type: ignore[no-untyped-def]
        for frame in original(container, stream, path):
            decoded[0] += 1
            yield frame

    monkeypatch.setattr(decode, "_decode_checked", counting)
    first = [k for k, _ in media.iter_timeline_frames(long_source, stop=3)]
    assert first == [0, 1, 2]
    assert decoded[0] <= 4  # the generator stopped pulling frames at the stop index
    decoded[0] = 0
    assert sum(1 for _ in media.iter_timeline(long_source)) == 400
    assert decoded[0] == 400


def test_crop_bgr_equals_slicing_the_full_conversion(source_30fps: Path) -> None:
    for item in media.iter_timeline(source_30fps, start=7, stop=9):
        full = item.to_bgr()
        for window in [(0, 0, 160, 128), (3, 5, 50, 61), (1, 1, 2, 2), (100, 77, 159, 127)]:
            x1, y1, x2, y2 = window
            fresh = media.TimelineFrame(item.index, item._frame)  # no cached full frame
            assert np.array_equal(fresh.crop_bgr(*window), full[y1:y2, x1:x2]), window
        with pytest.raises(ValueError, match="not inside"):
            item.crop_bgr(0, 0, 161, 10)


def test_audio_is_16k_mono_int16_aligned_to_the_file_start(tmp_path: Path) -> None:
    # Audio starts 0.3 s after the video: like ffmpeg's aresample first_pts=0 (what `-async 1`
    # does), the gap becomes leading silence so sample s stays at time s/16000.
    path = synth.write_synthetic_video(
        tmp_path / "late_audio.mkv", num_frames=60, fps=30, audio_start=0.3, audio_rate=48000
    )
    audio = media.read_audio(path)
    assert audio.dtype == np.int16 and audio.ndim == 1
    onset = int(np.argmax(np.abs(audio) > 200))
    assert onset == pytest.approx(0.3 * 16000, abs=16)
    # Within one AAC frame (1024 samples at 48 kHz): Matroska keeps the encoder's padding.
    assert audio.shape[0] == pytest.approx((0.3 + 2.0) * 16000, abs=1024 / 3)
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(path), "-vn"]
    command += ["-af", "aresample=async=1:first_pts=0", "-ac", "1", "-ar", "16000"]
    command += ["-f", "s16le", "-"]
    output = subprocess.run(command, capture_output=True, check=True).stdout
    reference = np.frombuffer(output, np.int16)
    assert int(np.argmax(np.abs(reference) > 200)) == onset
    assert abs(reference.shape[0] - audio.shape[0]) <= 2


def test_audio_spans_equal_slices_of_the_whole_track(source_30fps: Path) -> None:
    whole = media.read_audio(source_30fps)
    spans = [(0, 640), (6400, 12800), (60000, 70000), (whole.shape[0] - 100, whole.shape[0] + 900)]
    pieces, has_audio = media.read_audio_spans(source_30fps, spans)
    assert has_audio
    for (start, stop), piece in zip(spans, pieces, strict=True):
        assert np.array_equal(piece, whole[start:stop])
    assert pieces[-1].shape[0] == 100  # cut short at the end of the audio


def test_file_without_audio_gives_empty_array_and_flag(tmp_path: Path) -> None:
    path = synth.write_synthetic_video(tmp_path / "mute.mp4", num_frames=30, audio_rate=None)
    assert not media.probe_video(path).has_audio
    assert media.read_audio(path).shape == (0,)
    pieces, has_audio = media.read_audio_spans(path, [(0, 100)])
    assert not has_audio and pieces[0].shape == (0,)


def test_real_file_without_audio(shared_videos: Path) -> None:
    path = shared_videos / "lp_d13_portrait.mp4"
    assert not media.probe_video(path).has_audio
    assert media.read_audio(path).shape == (0,)


def test_real_audio_length_matches_its_duration(shared_videos: Path) -> None:
    path = shared_videos / "lp_d9_speaking.mp4"
    audio = media.read_audio(path)
    assert abs(audio.shape[0] / 16000 - media.probe_video(path).duration) < 0.1
    assert np.abs(audio).max() > 1000  # speech, not silence


@pytest.mark.parametrize(
    ("content", "what"),
    [(b"", "cannot open"), (b"not a video at all\n" * 50, "cannot open")],
)
def test_unreadable_files_raise_one_line_decode_error(
    tmp_path: Path, content: bytes, what: str
) -> None:
    path = tmp_path / "bad.mp4"
    path.write_bytes(content)
    for call in (media.probe_video, media.read_audio, lambda p: list(media.iter_timeline(p))):
        with pytest.raises(DecodeError) as info:
            call(path)
        message = str(info.value)
        assert message.startswith(str(path)) and what in message and "\n" not in message


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(DecodeError, match=r"nope\.mp4: no such file"):
        media.probe_video(tmp_path / "nope.mp4")


def test_truncated_mp4_raises_decode_error(source_30fps: Path, tmp_path: Path) -> None:
    data = source_30fps.read_bytes()
    path = tmp_path / "truncated.mp4"
    path.write_bytes(data[: len(data) // 3])  # moov atom (at the end) is lost
    with pytest.raises(DecodeError, match=r"truncated\.mp4"):
        list(media.iter_timeline_frames(path))


def test_write_clip_round_trip_is_atomic_and_quiet(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    frames = list(synth.iter_frames(30, 200, 150, (20, 20, 100)))
    audio = synth.make_tone(30 / 25)
    dest = tmp_path / "out" / "clip.mp4"
    media.write_clip(dest, frames, audio, size=224)
    assert capfd.readouterr().err == ""  # libx264's banner and stats are silenced
    assert [p.name for p in dest.parent.iterdir()] == ["clip.mp4"]
    info = media.probe_video(dest)
    assert (info.width, info.height, info.video_codec, info.audio_codec) == (
        224,
        224,
        "h264",
        "aac",
    )
    decoded = [f for _, f in media.iter_timeline_frames(dest)]
    assert len(decoded) == 30
    assert decoded[0].shape == (224, 224, 3)
    got = media.read_audio(dest)
    assert abs(got.shape[0] - audio.shape[0]) <= 1024


def test_clip_writer_failure_leaves_nothing(tmp_path: Path) -> None:
    dest = tmp_path / "clip.mp4"
    with pytest.raises(RuntimeError), media.ClipWriter(dest, 64) as writer:
        writer.add_frame(np.zeros((64, 64, 3), np.uint8))
        raise RuntimeError("killed mid-clip")
    assert list(tmp_path.iterdir()) == []


def test_clip_writer_discard_removes_temp(tmp_path: Path) -> None:
    writer = media.ClipWriter(tmp_path / "c.mp4", 64, synth.make_tone(4.0))
    for image in synth.iter_frames(100, 80, 80, None):
        writer.add_frame(image)
    names = [p.name for p in tmp_path.iterdir()]
    assert len(names) == 1 and names[0].startswith(".tmp-") and names[0].endswith("-c.mp4")
    writer.discard()
    assert list(tmp_path.iterdir()) == []
