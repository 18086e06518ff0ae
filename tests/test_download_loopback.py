"""The loopback HTTP server used by ``voxrepro demo`` and the download tests."""

from __future__ import annotations

import http.client
import logging
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from voxrepro.loopback import DROP, LOOPBACK_HOST, Behaviour, LoopbackServer


def fetch(url: str, method: str = "GET") -> tuple[int, bytes]:
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    (tmp_path / "a.bin").write_bytes(b"hello loopback")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.txt").write_text("inside", encoding="utf-8")
    return tmp_path / "sub"


@pytest.mark.network
def test_serves_files_on_an_ephemeral_loopback_port(root: Path) -> None:
    with LoopbackServer(root) as server:
        assert server.base_url.startswith(f"http://{LOOPBACK_HOST}:")
        assert server.port > 0
        assert fetch(server.url("b.txt")) == (200, b"inside")
        assert fetch(server.url("nothing.txt"))[0] == 404
        assert [(r.method, r.path, r.status) for r in server.requests] == [
            ("GET", "/b.txt", 200),
            ("GET", "/nothing.txt", 404),
        ]


@pytest.mark.network
def test_never_serves_outside_its_root(root: Path) -> None:
    with LoopbackServer(root) as server:
        for path in ("/../a.bin", "/%2e%2e/a.bin", "/sub/../../a.bin"):
            connection = http.client.HTTPConnection(LOOPBACK_HOST, server.port, timeout=5)
            connection.request("GET", path)
            response = connection.getresponse()
            body = response.read()
            connection.close()
            assert b"hello loopback" not in body, path


@pytest.mark.network
def test_scripted_statuses_are_consumed_in_order_then_the_file(root: Path) -> None:
    with LoopbackServer(root, {"/b.txt": [429, 429], "/gone.txt": 410}) as server:
        assert [fetch(server.url("b.txt"))[0] for _ in range(4)] == [429, 429, 200, 200]
        assert [fetch(server.url("gone.txt"))[0] for _ in range(2)] == [410, 410]
        assert server.request_count("/b.txt") == 4
        assert server.request_count("/gone.txt?x=1") == 2  # the query string is ignored
        server.set_behaviour("b.txt", Behaviour(statuses=[503], then=500))
        assert [fetch(server.url("b.txt"))[0] for _ in range(3)] == [503, 500, 500]
        assert fetch(server.url("b.txt"), "HEAD")[0] == 500
        server.clear_behaviours()
        assert fetch(server.url("b.txt")) == (200, b"inside")


@pytest.mark.network
def test_drop_closes_without_a_response(root: Path) -> None:
    with LoopbackServer(root, {"/b.txt": DROP}) as server:
        with pytest.raises((http.client.RemoteDisconnected, urllib.error.URLError)):
            fetch(server.url("b.txt"))
        assert [(r.path, r.status) for r in server.requests] == [("/b.txt", DROP)]


@pytest.mark.network
def test_delay_and_peak_concurrency(root: Path) -> None:
    with LoopbackServer(root, {"/b.txt": Behaviour(delay=0.3)}) as server:
        threads = [threading.Thread(target=fetch, args=(server.url("b.txt"),)) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert server.peak_concurrency >= 2
        server.clear_log()
        assert server.peak_concurrency == 0 and server.requests == []


def test_stop_releases_the_port_and_refuses_a_missing_root(root: Path, tmp_path: Path) -> None:
    server = LoopbackServer(root).start()
    port = server.port
    server.stop()
    server.stop()  # idempotent
    with pytest.raises(RuntimeError):
        _ = server.port
    with pytest.raises(OSError):
        http.client.HTTPConnection(LOOPBACK_HOST, port, timeout=1).request("GET", "/b.txt")
    with pytest.raises(NotADirectoryError):
        LoopbackServer(tmp_path / "no-such-folder")


def test_client_hang_ups_are_logged_not_printed(
    root: Path, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="voxrepro")
    with LoopbackServer(root) as server:
        socket_server = server._server
        assert socket_server is not None
        try:
            raise BrokenPipeError(32, "Broken pipe")
        except BrokenPipeError:
            socket_server.handle_error(None, (LOOPBACK_HOST, 1))
    captured = capfd.readouterr()
    assert "Traceback" not in captured.err and captured.out == ""
    assert any("hung up" in record.getMessage() for record in caplog.records)
