"""``voxrepro.weights`` and ``voxrepro weights fetch|check``: identification by keys, key and
shape checks for both official files (random-init stand-ins saved with the official layout),
and fetching over loopback HTTP, including the failures this offline machine must report."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from voxrepro.atomic import TEMP_PREFIX
from voxrepro.detect.s3fd_net import S3FDNet
from voxrepro.errors import DownloadError, ModelError
from voxrepro.loopback import LoopbackServer
from voxrepro.weights import (
    FetchStatus,
    KeyStatus,
    WeightsKind,
    cached_weights,
    check_weights,
    download_weights,
    fetch_weights,
    weights_url,
)

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """Random-init stand-ins for both official files, plus broken variants."""
    from voxrepro.syncnet.model import make_random_syncnet

    folder = tmp_path_factory.mktemp("weights")
    torch.manual_seed(0)
    s3fd = S3FDNet().state_dict()
    syncnet_full = make_random_syncnet(seed=0).state_dict()
    # The official file is believed to hold the 88 keys without BatchNorm counters (§8.1).
    syncnet = {k: v for k, v in syncnet_full.items() if not k.endswith("num_batches_tracked")}
    wrong = dict(syncnet)
    wrong["netfclip.3.weight"] = torch.zeros(512, 512)
    paths = {
        "s3fd": folder / "serve" / "sfd_face.pth",
        "syncnet": folder / "serve" / "syncnet_v2.model",
        "syncnet_full": folder / "syncnet_102.model",
        "syncnet_wrong": folder / "syncnet_wrong.model",
        "junk": folder / "junk.model",
        "foreign": folder / "foreign.pth",
    }
    paths["s3fd"].parent.mkdir()
    torch.save(s3fd, paths["s3fd"])
    torch.save(syncnet, paths["syncnet"])
    torch.save(syncnet_full, paths["syncnet_full"])
    torch.save(wrong, paths["syncnet_wrong"])
    paths["junk"].write_bytes(b"<html>not found</html>")
    torch.save({"fc.weight": torch.zeros(2, 2)}, paths["foreign"])
    yield paths
    for path in paths.values():
        path.unlink(missing_ok=True)


# --- check ------------------------------------------------------------------------------------


def test_check_identifies_and_accepts_s3fd(files) -> None:
    report = check_weights(files["s3fd"])
    assert report.kind is WeightsKind.S3FD and report.ok
    assert len(report.checks) == 65 and all(c.status is KeyStatus.OK for c in report.checks)
    assert len(report.sha256) == 64 and report.size_bytes > 80_000_000


def test_check_accepts_syncnet_with_88_or_102_keys(files) -> None:
    report = check_weights(files["syncnet"])
    assert report.kind is WeightsKind.SYNCNET and report.ok
    assert sum(c.actual is not None for c in report.checks) == 88
    assert sum(c.status is KeyStatus.OPTIONAL_MISSING for c in report.checks) == 14
    full = check_weights(files["syncnet_full"])
    assert full.ok and sum(c.actual is not None for c in full.checks) == 102


def test_check_reports_a_wrong_shape(files) -> None:
    report = check_weights(files["syncnet_wrong"])
    assert not report.ok
    (problem,) = report.problems
    assert problem.key == "netfclip.3.weight" and problem.status is KeyStatus.WRONG_SHAPE
    assert problem.actual == (512, 512) and problem.expected == (1024, 512)
    assert report.to_dict()["problems"] == [problem.message()]


def test_check_refuses_unreadable_and_foreign_files(files) -> None:
    with pytest.raises(ModelError, match="not a readable torch weights file"):
        check_weights(files["junk"])
    with pytest.raises(ModelError, match="neither S3FD nor SyncNet"):
        check_weights(files["foreign"])


# --- fetch over loopback ------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_fetch_downloads_checks_and_then_uses_the_cache(files, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with LoopbackServer(files["s3fd"].parent) as server:
        results = fetch_weights(cache, base_url=server.base_url, timeout_s=10)
        assert [r.status for r in results] == [FetchStatus.DOWNLOADED, FetchStatus.DOWNLOADED]
        assert (cache / "sfd_face.pth").read_bytes() == files["s3fd"].read_bytes()
        assert results[1].path == cache / "syncnet_v2.model"
        assert cached_weights(WeightsKind.S3FD, cache) == cache / "sfd_face.pth"
        served = server.request_count()
        again = fetch_weights(cache, base_url=server.base_url)
        assert [r.status for r in again] == [FetchStatus.CACHED, FetchStatus.CACHED]
        assert server.request_count() == served  # a rerun asks nothing
    assert _leftovers(cache) == ["sfd_face.pth", "syncnet_v2.model"]


def test_fetch_refuses_an_invalid_download_and_keeps_nothing(files, tmp_path: Path) -> None:
    serve = tmp_path / "serve"
    serve.mkdir()
    (serve / "sfd_face.pth").write_bytes(files["syncnet"].read_bytes())  # the wrong model
    cache = tmp_path / "cache"
    with LoopbackServer(serve) as server:
        (result,) = fetch_weights(cache, [WeightsKind.S3FD], base_url=server.base_url)
    assert result.status is FetchStatus.FAILED
    assert "not valid" in (result.error or "") and "\n" not in (result.error or "")
    assert _leftovers(cache) == []  # no file, no temp


def test_http_404_is_a_permanent_download_error(tmp_path: Path) -> None:
    with LoopbackServer(tmp_path, {"sfd_face.pth": 404}) as server:
        url = weights_url(WeightsKind.S3FD, server.base_url)
        with pytest.raises(DownloadError) as info:
            download_weights(WeightsKind.S3FD, tmp_path / "cache" / "sfd_face.pth", url)
    assert info.value.reason == "http_404" and info.value.permanent
    assert "HTTP 404" in str(info.value)
    assert not any(p.name.startswith(TEMP_PREFIX) for p in (tmp_path / "cache").iterdir())


def test_unreachable_host_is_a_transient_download_error(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/sfd_face.pth"
    with pytest.raises(DownloadError, match="cannot download") as info:
        download_weights(WeightsKind.S3FD, tmp_path / "sfd_face.pth", url, timeout_s=3)
    assert info.value.reason == "connection" and not info.value.permanent
    assert _leftovers(tmp_path) == []


def test_only_http_urls_are_accepted() -> None:
    with pytest.raises(ModelError, match="http"):
        weights_url(WeightsKind.S3FD, "file:///etc/")
    assert weights_url(WeightsKind.SYNCNET, "http://h/x").endswith("/x/syncnet_v2.model")


# --- CLI (a real process: no traceback may reach the user) ---------------------------------


def _voxrepro(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "voxrepro", *args],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=env,
        timeout=120,
    )


@pytest.mark.slow
def test_cli_fetch_without_network_fails_with_one_line_per_file(tmp_path: Path) -> None:
    with LoopbackServer(tmp_path, {"sfd_face.pth": 404, "syncnet_v2.model": 404}) as server:
        done = _voxrepro(
            "weights", "fetch", "--dir", str(tmp_path / "c"), "--base-url", server.base_url, "-q"
        )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 2 and all("HTTP 404" in line for line in errors)
    unreachable = _voxrepro(
        "weights",
        "fetch",
        "--dir",
        str(tmp_path / "c"),
        "--base-url",
        f"http://127.0.0.1:{_closed_port()}/",
        "--only",
        "s3fd",
        "--json",
    )
    assert unreachable.returncode == 1 and "Traceback" not in unreachable.stderr
    assert '"status": "failed"' in unreachable.stdout and "cannot download" in unreachable.stdout


@pytest.mark.slow
def test_cli_check_exit_codes_and_messages(files) -> None:
    good = _voxrepro("weights", "check", str(files["s3fd"]))
    assert good.returncode == 0 and "valid" in good.stdout and "s3fd" in good.stdout
    bad = _voxrepro("weights", "check", str(files["syncnet_wrong"]), "--json")
    assert bad.returncode == 1 and '"ok": false' in bad.stdout
    (line,) = bad.stderr.strip().splitlines()
    assert line.startswith("error:") and "netfclip.3.weight" in line and "(512, 512)" in line
    junk = _voxrepro("weights", "check", str(files["junk"]))
    assert junk.returncode == 2 and "Traceback" not in junk.stderr
    assert "not a readable torch weights file" in junk.stderr
