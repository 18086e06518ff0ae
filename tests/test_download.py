"""voxrepro.download against the loopback server (yt-dlp's generic extractor, no internet)."""

from __future__ import annotations

import itertools
import random
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest

import voxrepro.download_options as download_options
from voxrepro.download import PARTIAL_DIRNAME, download_videos
from voxrepro.download_options import DownloadOptions, backoff_delay, build_ydl_options
from voxrepro.errors import InvalidInputError
from voxrepro.failures import FailureClass
from voxrepro.loopback import DROP, Behaviour, LoopbackServer
from voxrepro.store import DownloadStore, VideoStatus, read_video_states, state_path
from voxrepro.synth import write_synthetic_video

OK1, OK2, OK3 = "okvideo0001", "okvideo0002", "ok-video_03"
MISSING, LIMITED, BROKEN = "missing0404", "limited0429", "broken-0500"
WIDTH, HEIGHT, FRAMES = 96, 64, 25


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 1 s 96x64 25 fps H.264 + AAC mp4, written with PyAV."""
    path = tmp_path_factory.mktemp("clip") / "clip.mp4"
    return write_synthetic_video(
        path, num_frames=FRAMES, width=WIDTH, height=HEIGHT, region=None, audio_rate=16_000
    )


@contextmanager
def serving(
    root: Path, clip: Path, ids: list[str], behaviours: dict[str, object] | None = None
) -> Iterator[LoopbackServer]:
    """Serve ``<id>.mp4`` copies of ``clip`` from ``root`` with scripted behaviours by id."""
    root.mkdir(parents=True, exist_ok=True)
    for video_id in ids:
        shutil.copyfile(clip, root / f"{video_id}.mp4")
    scripted = {f"/{vid}.mp4": b for vid, b in (behaviours or {}).items()}
    with LoopbackServer(root, scripted) as server:  # type: ignore[arg-type]
        yield server


def options_for(server: LoopbackServer, out: Path, **overrides: object) -> DownloadOptions:
    settings: dict[str, object] = {
        "out_dir": out,
        "url_template": server.base_url + "/{id}.mp4",
        "backoff": 0.01,
        "retries": 3,
    }
    settings.update(overrides)
    return DownloadOptions(**settings)  # type: ignore[arg-type]


def video_files(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir() if p.suffix == ".mp4")


@pytest.mark.network
def test_success_saves_file_and_records_probe(tmp_path: Path, clip: Path) -> None:
    out = tmp_path / "out"
    with serving(tmp_path / "www", clip, [OK1]) as server:
        [result] = download_videos([OK1], options_for(server, out))
        assert server.request_count(f"/{OK1}.mp4") >= 1
    assert result.status is VideoStatus.DONE and not result.skipped
    saved = out / f"{OK1}.mp4"
    assert saved.read_bytes() == clip.read_bytes()
    state = read_video_states(out)[OK1]
    assert state.status is VideoStatus.DONE
    assert state.path == str(saved.resolve())
    assert (state.width, state.height) == (WIDTH, HEIGHT)
    assert state.fps == pytest.approx(25.0)
    assert state.duration == pytest.approx(FRAMES / 25, abs=0.1)
    assert state.attempts == 1
    # Nothing but the finished file and the state: no work folder, no .part files.
    assert not (out / PARTIAL_DIRNAME).exists()
    assert not [p for p in out.iterdir() if p.suffix in {".part", ".ytdl"}]


@pytest.mark.network
def test_output_folder_with_template_characters(tmp_path: Path, clip: Path) -> None:
    # '%' starts a yt-dlp output-template field; the folder name must be taken literally.
    out = tmp_path / "runs %(id)s 100%"
    with serving(tmp_path / "www", clip, [OK1]) as server:
        [result] = download_videos([OK1], options_for(server, out))
    assert result.status is VideoStatus.DONE
    assert video_files(out) == [f"{OK1}.mp4"]


@pytest.mark.network
def test_404_is_permanent_and_only_retried_on_request(tmp_path: Path, clip: Path) -> None:
    out = tmp_path / "out"
    with serving(tmp_path / "www", clip, [MISSING], {MISSING: 404}) as server:
        [first] = download_videos([MISSING], options_for(server, out))
        assert first.status is VideoStatus.FAILED
        assert first.state.failure_class is FailureClass.PERMANENT
        assert first.state.reason == "http_404"
        assert first.attempts_run == 1  # permanent: no retry within the run
        assert MISSING not in (first.state.message or "")
        assert server.request_count() == 1

        server.clear_log()
        [again] = download_videos([MISSING], options_for(server, out))
        assert again.skipped and again.status is VideoStatus.FAILED
        assert server.request_count() == 0  # rerun skips permanent failures

        [forced] = download_videos([MISSING], options_for(server, out, retry_failed=True))
        assert server.request_count() == 1
        assert not forced.skipped and forced.state.attempts == 2
    assert video_files(out) == []


@pytest.mark.network
def test_429_twice_then_200_is_retried_within_the_run(tmp_path: Path, clip: Path) -> None:
    out = tmp_path / "out"
    with serving(tmp_path / "www", clip, [LIMITED], {LIMITED: [429, 429]}) as server:
        [result] = download_videos([LIMITED], options_for(server, out, retries=3))
        statuses = [r.status for r in server.requests]
    assert statuses[:2] == [429, 429] and set(statuses[2:]) == {200}
    assert result.status is VideoStatus.DONE
    assert result.attempts_run == 3 and result.state.attempts == 3
    with DownloadStore(state_path(out)) as store:
        attempts = store.attempts_of(LIMITED)
    assert [a.status for a in attempts] == [
        VideoStatus.FAILED,
        VideoStatus.FAILED,
        VideoStatus.DONE,
    ]
    assert [a.reason for a in attempts] == ["rate_limited", "rate_limited", None]
    assert video_files(out) == [f"{LIMITED}.mp4"]


@pytest.mark.network
def test_transient_failure_exhausts_retries_and_is_retried_next_run(
    tmp_path: Path, clip: Path
) -> None:
    out = tmp_path / "out"
    with serving(tmp_path / "www", clip, [BROKEN], {BROKEN: 500}) as server:
        [result] = download_videos([BROKEN], options_for(server, out, retries=2))
        assert server.request_count() == 3
        assert result.state.failure_class is FailureClass.TRANSIENT
        assert result.state.reason == "http_5xx"
        assert result.attempts_run == 3

        server.set_behaviour(f"/{BROKEN}.mp4", Behaviour())  # the server recovers
        [rerun] = download_videos([BROKEN], options_for(server, out, retries=2))
    assert rerun.status is VideoStatus.DONE and rerun.state.attempts == 4


@pytest.mark.network
def test_dropped_connection_is_a_transient_connection_error(tmp_path: Path, clip: Path) -> None:
    out = tmp_path / "out"
    with serving(tmp_path / "www", clip, [OK1], {OK1: DROP}) as server:
        [result] = download_videos([OK1], options_for(server, out, retries=1))
    assert result.status is VideoStatus.FAILED
    assert result.state.failure_class is FailureClass.TRANSIENT
    assert result.state.reason == "connection"


@pytest.mark.network
def test_rerun_skips_done_videos_without_any_request(tmp_path: Path, clip: Path) -> None:
    out = tmp_path / "out"
    with serving(tmp_path / "www", clip, [OK1, OK2]) as server:
        download_videos([OK1, OK2], options_for(server, out))
        server.clear_log()
        results = download_videos([OK1, OK2], options_for(server, out))
        assert server.requests == []
    assert all(r.skipped and r.status is VideoStatus.DONE for r in results)


@pytest.mark.network
def test_done_video_whose_file_vanished_is_downloaded_again(tmp_path: Path, clip: Path) -> None:
    out = tmp_path / "out"
    with serving(tmp_path / "www", clip, [OK1]) as server:
        download_videos([OK1], options_for(server, out))
        (out / f"{OK1}.mp4").unlink()
        server.clear_log()
        [result] = download_videos([OK1], options_for(server, out))
        assert server.request_count() >= 1
    assert not result.skipped and result.status is VideoStatus.DONE
    assert result.state.attempts == 2 and (out / f"{OK1}.mp4").is_file()


@pytest.mark.network
def test_cookies_are_sent_and_the_users_file_is_never_rewritten(tmp_path: Path, clip: Path) -> None:
    cookies = tmp_path / "cookies.txt"
    text = "# Netscape HTTP Cookie File\n127.0.0.1\tFALSE\t/\tFALSE\t0\tsession\tsecret42\n"
    cookies.write_text(text, encoding="utf-8")
    ids = [OK1, OK2, OK3]
    with serving(tmp_path / "www", clip, ids) as server:
        options = options_for(server, tmp_path / "out", workers=3, cookies=cookies)
        results = download_videos(ids, options)
        sent = {record.cookie for record in server.requests}
    assert all(r.status is VideoStatus.DONE for r in results), [r.state.message for r in results]
    assert sent == {"session=secret42"}
    assert cookies.read_text(encoding="utf-8") == text


@pytest.mark.network
def test_a_stopped_run_leaves_videos_pending_and_a_rerun_finishes(
    tmp_path: Path, clip: Path
) -> None:
    out = tmp_path / "out"
    stop = threading.Event()
    stop.set()  # what KeyboardInterrupt does: no new attempt starts
    with serving(tmp_path / "www", clip, [OK1, OK2]) as server:
        stopped = download_videos([OK1, OK2], options_for(server, out), stop=stop)
        assert server.requests == []
        assert [r.status for r in stopped] == [VideoStatus.PENDING, VideoStatus.PENDING]
        assert {s.status for s in read_video_states(out).values()} == {VideoStatus.PENDING}
        resumed = download_videos([OK1, OK2], options_for(server, out))
    assert [r.status for r in resumed] == [VideoStatus.DONE, VideoStatus.DONE]


@pytest.mark.network
def test_existing_file_is_adopted_without_request(tmp_path: Path, clip: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    shutil.copyfile(clip, out / f"{OK1}.mp4")  # e.g. from an earlier tool, no state yet
    with serving(tmp_path / "www", clip, [OK1]) as server:
        [result] = download_videos([OK1], options_for(server, out))
        assert server.requests == []
    assert result.skipped and result.status is VideoStatus.DONE
    assert (result.state.width, result.state.height) == (WIDTH, HEIGHT)


@pytest.mark.network
def test_broken_media_never_reaches_the_output_folder(tmp_path: Path, clip: Path) -> None:
    out = tmp_path / "out"
    with serving(tmp_path / "www", clip, [OK1]) as server:
        (server.root / f"{OK1}.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 500)
        [result] = download_videos([OK1], options_for(server, out, retries=0))
    assert result.status is VideoStatus.FAILED
    assert result.state.reason == "invalid_media"
    assert result.state.failure_class is FailureClass.TRANSIENT
    assert video_files(out) == []
    assert not (out / PARTIAL_DIRNAME).exists()


@pytest.mark.network
def test_leftovers_of_a_killed_run_are_cleaned(tmp_path: Path, clip: Path) -> None:
    out = tmp_path / "out"
    work = out / PARTIAL_DIRNAME / OK1
    work.mkdir(parents=True)
    (work / f"{OK1}.mp4.part").write_bytes(b"half")
    (out / f"{OK1}.f137.mp4.part").write_bytes(b"half")
    (out / f"{OK1}.mp4.ytdl").write_bytes(b"state")
    with serving(tmp_path / "www", clip, [OK1]) as server:
        [result] = download_videos([OK1], options_for(server, out))
    assert result.status is VideoStatus.DONE
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith("download_state")) == [
        f"{OK1}.mp4"
    ]
    assert (out / f"{OK1}.mp4").read_bytes() == clip.read_bytes()


@pytest.mark.network
def test_several_workers_download_in_parallel(tmp_path: Path, clip: Path) -> None:
    out = tmp_path / "out"
    ids = [OK1, OK2, OK3]
    slow = {vid: Behaviour(delay=0.6) for vid in ids}
    with serving(tmp_path / "www", clip, ids, slow) as server:  # type: ignore[arg-type]
        results = download_videos(ids, options_for(server, out, workers=3))
        peak = server.peak_concurrency
    assert [r.video_id for r in results] == ids  # input order, whatever the finish order
    assert all(r.status is VideoStatus.DONE for r in results)
    assert peak >= 2
    assert video_files(out) == sorted(f"{v}.mp4" for v in ids)
    assert set(read_video_states(out)) == set(ids)


@pytest.mark.network
def test_sleep_spaces_the_attempts_of_one_worker(tmp_path: Path, clip: Path) -> None:
    out = tmp_path / "out"
    ids = [OK1, OK2, OK3]
    with serving(tmp_path / "www", clip, ids) as server:
        download_videos(ids, options_for(server, out, workers=1, sleep=0.5))
        assert server.request_count() >= 3
    with DownloadStore(state_path(out)) as store:
        starts = sorted(a.started_at for v in ids for a in store.attempts_of(v))
    assert len(starts) == 3
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    # Measured on attempt starts (what --sleep spaces), not on yt-dlp's first request,
    # whose start-up time varies with machine load.
    assert min(gaps) >= 0.45, gaps


def write_dash(folder: Path, clip: Path) -> None:
    """A static DASH manifest with separate video (mp4) and audio (m4a) files, as YouTube has."""
    import av

    folder.mkdir(parents=True)
    for kind, name in (("video", "video.mp4"), ("audio", "audio.m4a")):
        with av.open(str(clip)) as source, av.open(str(folder / name), "w", format="mp4") as sink:
            stream = source.streams.video[0] if kind == "video" else source.streams.audio[0]
            copy = sink.add_stream_from_template(stream)
            for packet in source.demux(stream):
                if packet.dts is not None:
                    packet.stream = copy
                    sink.mux(packet)
    (folder / "manifest.mpd").write_text(
        '<?xml version="1.0"?>\n<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" '
        'mediaPresentationDuration="PT1S" minBufferTime="PT1S" '
        'profiles="urn:mpeg:dash:profile:isoff-on-demand:2011"><Period>'
        '<AdaptationSet mimeType="video/mp4" contentType="video"><Representation id="v" '
        f'codecs="avc1.640015" bandwidth="100000" width="{WIDTH}" height="{HEIGHT}" '
        'frameRate="25"><BaseURL>video.mp4</BaseURL></Representation></AdaptationSet>'
        '<AdaptationSet mimeType="audio/mp4" contentType="audio"><Representation id="a" '
        'codecs="mp4a.40.2" bandwidth="32000" audioSamplingRate="16000">'
        "<BaseURL>audio.m4a</BaseURL></Representation></AdaptationSet></Period></MPD>\n",
        encoding="utf-8",
    )


@pytest.mark.network
def test_separate_video_and_audio_are_merged_without_ffmpeg_on_path(
    tmp_path: Path, clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    download_options.find_ffmpeg.cache_clear()
    try:
        write_dash(tmp_path / "www" / OK1, clip)
        with LoopbackServer(tmp_path / "www") as server:
            options = options_for(server, tmp_path / "out", retries=0)
            options = replace(options, url_template=server.base_url + "/{id}/manifest.mpd")
            [result] = download_videos([OK1], options)
            fetched = sorted(r.path for r in server.requests)
    finally:
        download_options.find_ffmpeg.cache_clear()
    assert result.status is VideoStatus.DONE, result.state.message
    assert fetched == [f"/{OK1}/audio.m4a", f"/{OK1}/manifest.mpd", f"/{OK1}/video.mp4"]
    assert video_files(tmp_path / "out") == [f"{OK1}.mp4"]
    from voxrepro.media import probe_video

    merged = probe_video(tmp_path / "out" / f"{OK1}.mp4")
    assert merged.has_audio and (merged.width, merged.height) == (WIDTH, HEIGHT)


def test_backoff_doubles_with_jitter_and_cap() -> None:
    rng = random.Random(7)
    for retry, base_delay in ((1, 2.0), (2, 4.0), (3, 8.0), (6, 60.0), (10, 60.0)):
        for _ in range(20):
            delay = backoff_delay(retry, 2.0, 60.0, rng)
            assert base_delay <= delay <= base_delay * 1.5
    delays = {backoff_delay(1, 1.0, 60.0, rng) for _ in range(20)}
    assert len(delays) > 1  # jitter, so that workers do not retry in lockstep


def test_ydl_options_carry_proxy_cookies_and_a_literal_output_path(tmp_path: Path) -> None:
    cookies = tmp_path / "cookies.txt"
    cookies.write_text("# Netscape HTTP Cookie File\n")
    options = DownloadOptions(out_dir=tmp_path, proxy="http://127.0.0.1:3128", cookies=cookies)
    assert "cookiefile" not in build_ydl_options(options, tmp_path, OK1)
    params = build_ydl_options(options, tmp_path / "50%", OK1, tmp_path / "copy.txt")
    assert params["proxy"] == "http://127.0.0.1:3128"
    assert params["cookiefile"] == str(tmp_path / "copy.txt")
    assert params["outtmpl"]["default"] == f"{tmp_path}/50%%/{OK1}.%(ext)s"
    assert params["format"] == "bv*[ext=mp4]+ba[ext=m4a]/bv*+ba/b"
    assert Path(params["ffmpeg_location"]).exists()  # merges work without ffmpeg on PATH
    assert params["retries"] == 0  # our loop is the one retry authority


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"workers": 0}, "--workers"),
        ({"retries": -1}, "--retries"),
        ({"sleep": -1.0}, "--sleep"),
        ({"url_template": "http://127.0.0.1/video"}, "{id}"),
        ({"format": " "}, "--format"),
        ({"cookies": Path("/nonexistent/cookies.txt")}, "cookies file not found"),
    ],
)
def test_bad_options_are_one_line_errors(
    tmp_path: Path, overrides: dict[str, object], fragment: str
) -> None:
    options = DownloadOptions(out_dir=tmp_path, **overrides)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError) as info:
        options.validate()
    assert fragment in str(info.value) and "\n" not in str(info.value)


def test_download_videos_refuses_bad_input_before_any_work(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError):
        download_videos([OK1], DownloadOptions(out_dir=tmp_path / "o", workers=0))
    with pytest.raises(InvalidInputError, match=r"'\.\./\.\./etc'"):
        download_videos([OK1, "../../etc"], DownloadOptions(out_dir=tmp_path / "o"))
    assert not (tmp_path / "o").exists()
