"""The two official weight files: where they come from, where they are cached, and checks.

- ``sfd_face.pth``: S3FD face detector, 65 tensors (spec §4.3), URL from syncnet_python's
  ``download_model.sh``.
- ``syncnet_v2.model``: SyncNet v2, 88 tensors (the model's 102 keys minus 14 BatchNorm
  ``num_batches_tracked`` counters, which the file may omit: spec §8.1).

Neither file ships with a published checksum, so a file counts as valid when every key of the
model is present with the right shape and nothing extra is there. Downloads go to a temporary
name in the cache folder and are renamed only after that check passes. This module is the one
place, besides ``download.py``, that opens network connections (plain ``urllib``, with a timeout).
"""

from __future__ import annotations

import contextlib
import enum
import hashlib
import logging
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from voxrepro.atomic import atomic_path
from voxrepro.errors import DownloadError, ModelError
from voxrepro.failures import FailureReason, failure_for
from voxrepro.types import Pathlike, ProgressFn

log = logging.getLogger("voxrepro")

BASE_URL = "https://www.robots.ox.ac.uk/~vgg/software/lipsync/data/"
CACHE_ENV = "VOXREPRO_CACHE"
DEFAULT_TIMEOUT_S = 30.0
_CHUNK = 1 << 20


class WeightsKind(enum.StrEnum):
    S3FD = "s3fd"
    SYNCNET = "syncnet"


FILENAMES: dict[WeightsKind, str] = {
    WeightsKind.S3FD: "sfd_face.pth",
    WeightsKind.SYNCNET: "syncnet_v2.model",
}

#: Keys a file may lack without being invalid (BatchNorm counters: spec §8.1).
_OPTIONAL_SUFFIX = "num_batches_tracked"


class KeyStatus(enum.StrEnum):
    OK = "ok"
    OPTIONAL_MISSING = "optional-missing"
    MISSING = "missing"
    UNEXPECTED = "unexpected"
    WRONG_SHAPE = "wrong-shape"


@dataclass(frozen=True)
class KeyCheck:
    """One state-dict key: its expected and actual shapes (None when absent) and the verdict."""

    key: str
    expected: tuple[int, ...] | None
    actual: tuple[int, ...] | None
    status: KeyStatus

    @property
    def ok(self) -> bool:
        return self.status in (KeyStatus.OK, KeyStatus.OPTIONAL_MISSING)

    def message(self) -> str:
        if self.status is KeyStatus.WRONG_SHAPE:
            return f"key {self.key!r} has shape {self.actual}, expected {self.expected}"
        if self.status is KeyStatus.MISSING:
            return f"key {self.key!r} (shape {self.expected}) is missing"
        if self.status is KeyStatus.UNEXPECTED:
            return f"unexpected key {self.key!r} (shape {self.actual})"
        return f"key {self.key!r} ok"


@dataclass
class WeightsReport:
    """Result of checking one file."""

    path: Path
    kind: WeightsKind
    sha256: str
    size_bytes: int
    checks: list[KeyCheck] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def problems(self) -> list[KeyCheck]:
        return [c for c in self.checks if not c.ok]

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "kind": self.kind.value,
            "ok": self.ok,
            "sha256": self.sha256,
            "size_bytes": self.size_bytes,
            "keys": len([c for c in self.checks if c.actual is not None]),
            "problems": [c.message() for c in self.problems],
        }


# Cache ----------------------------------------------------------------------------------------


def default_cache_dir() -> Path:
    """$VOXREPRO_CACHE, else $XDG_CACHE_HOME/voxrepro, else ~/.cache/voxrepro."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "voxrepro"


def cached_weights(kind: WeightsKind, cache_dir: Pathlike | None = None) -> Path | None:
    """Path of the cached file for ``kind`` if it exists (not re-validated), else None."""
    path = Path(cache_dir or default_cache_dir()) / FILENAMES[kind]
    return path if path.is_file() else None


# Reading and checking ---------------------------------------------------------------------------


def read_state_dict(path: Pathlike) -> dict[str, Any]:
    """Load a plain state dict with ``torch.load(weights_only=True)`` on CPU.

    Raises:
        ModelError: missing file, not a torch file, or not a mapping of names to tensors.
    """
    import torch

    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path}: weights file not found")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for corrupt or foreign files
        text = str(error).strip()
        detail = f"{type(error).__name__}: {text.splitlines()[0]}" if text else type(error).__name__
        raise ModelError(
            f"{path}: not a readable torch weights file (torch.load failed with {detail})"
        ) from error
    if not isinstance(state, Mapping) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()
    ):
        raise ModelError(f"{path}: expected a state dict of name -> tensor, got {type(state)}")
    return dict(state)


def compare_state_dict(
    state: Mapping[str, Any], expected: Mapping[str, tuple[int, ...]]
) -> list[KeyCheck]:
    """Check every expected key (in model order), then list unexpected keys (in file order)."""
    checks: list[KeyCheck] = []
    for key, shape in expected.items():
        if key not in state:
            status = (
                KeyStatus.OPTIONAL_MISSING if key.endswith(_OPTIONAL_SUFFIX) else KeyStatus.MISSING
            )
            checks.append(KeyCheck(key, tuple(shape), None, status))
            continue
        actual = tuple(state[key].shape)
        status = KeyStatus.OK if actual == tuple(shape) else KeyStatus.WRONG_SHAPE
        checks.append(KeyCheck(key, tuple(shape), actual, status))
    for key, value in state.items():
        if key not in expected:
            checks.append(KeyCheck(key, None, tuple(value.shape), KeyStatus.UNEXPECTED))
    return checks


def require_valid_state_dict(
    state: Mapping[str, Any], expected: Mapping[str, tuple[int, ...]], path: Pathlike, model: str
) -> None:
    """Raise ModelError naming the file and the first offending key unless ``state`` matches."""
    problems = [c for c in compare_state_dict(state, expected) if not c.ok]
    if problems:
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        raise ModelError(f"{path}: not a valid {model} weights file: {problems[0].message()}{more}")


def expected_shapes(kind: WeightsKind) -> dict[str, tuple[int, ...]]:
    """Key -> shape of the model ``kind`` (built from the model code, never from a file).

    Raises:
        ModelError: the SyncNet model module is not available in this checkout.
    """
    if kind is WeightsKind.S3FD:
        from voxrepro.detect.s3fd_net import expected_s3fd_shapes

        return expected_s3fd_shapes()
    try:
        from voxrepro.syncnet.model import expected_syncnet_shapes
    except ImportError as error:
        raise ModelError("the SyncNet model (voxrepro.syncnet.model) is not available") from error
    # With the BatchNorm counters: a file that has them is fine, one without them too.
    shapes = expected_syncnet_shapes(include_num_batches_tracked=True)
    return {k: tuple(v) for k, v in shapes.items()}


def identify_weights(state: Mapping[str, Any]) -> WeightsKind | None:
    """Which model a state dict belongs to, from its key names (None when neither)."""
    keys = set(state)
    if any(k.startswith(("vgg.", "L2Norm")) for k in keys):
        return WeightsKind.S3FD
    if any(k.startswith(("netcnnaud.", "netcnnlip.", "netfcaud.", "netfclip.")) for k in keys):
        return WeightsKind.SYNCNET
    return None


def sha256_of(path: Pathlike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_weights(path: Pathlike, kind: WeightsKind | None = None) -> WeightsReport:
    """Identify the model of ``path`` (unless ``kind`` is given) and check every key and shape.

    Raises:
        ModelError: unreadable file, or keys that belong to neither model.
    """
    path = Path(path)
    state = read_state_dict(path)
    kind = kind or identify_weights(state)
    if kind is None:
        first = next(iter(state), "<none>")
        raise ModelError(
            f"{path}: neither S3FD nor SyncNet weights (first key {first!r}, {len(state)} keys)"
        )
    checks = compare_state_dict(state, expected_shapes(kind))
    return WeightsReport(path, kind, sha256_of(path), path.stat().st_size, checks)


# Fetching ---------------------------------------------------------------------------------------


class FetchStatus(enum.StrEnum):
    DOWNLOADED = "downloaded"
    CACHED = "cached"
    FAILED = "failed"


@dataclass(frozen=True)
class FetchResult:
    kind: WeightsKind
    path: Path
    status: FetchStatus
    url: str
    error: str | None = None
    sha256: str | None = None


def weights_url(kind: WeightsKind, base_url: str = BASE_URL) -> str:
    """The download URL of ``kind`` under ``base_url`` (http or https only)."""
    scheme = urllib.parse.urlsplit(base_url).scheme
    if scheme not in ("http", "https"):
        raise ModelError(f"weights base URL must be http(s), got {base_url!r}")
    return urllib.parse.urljoin(base_url.rstrip("/") + "/", FILENAMES[kind])


def _http_reason(code: int) -> FailureReason:
    """HTTP status -> the download taxonomy of ``voxrepro.failures``."""
    named = {404: FailureReason.NOT_FOUND, 410: FailureReason.GONE, 403: FailureReason.FORBIDDEN}
    if code in named:
        return named[code]
    if code == 429:
        return FailureReason.RATE_LIMITED
    return FailureReason.SERVER_ERROR if code >= 500 else FailureReason.HTTP_CLIENT_ERROR


def download_weights(
    kind: WeightsKind,
    dest: Pathlike,
    url: str,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    progress: Callable[[int, int | None], None] | None = None,
) -> WeightsReport:
    """Download ``url`` to ``dest`` atomically; rename only if the file passes ``check_weights``.

    Args:
        progress: called with (bytes just received, total bytes or None).

    Raises:
        DownloadError: network failure or HTTP error (``reason`` from ``voxrepro.failures``).
        ModelError: the downloaded file is not valid ``kind`` weights (nothing is kept).
    """
    dest = Path(dest)
    with atomic_path(dest) as tmp:
        try:
            with urllib.request.urlopen(url, timeout=timeout_s) as response, open(tmp, "wb") as fh:
                length = response.headers.get("Content-Length")
                total = int(length) if length and length.isdigit() else None
                while chunk := response.read(_CHUNK):
                    fh.write(chunk)
                    if progress is not None:
                        progress(len(chunk), total)
        except urllib.error.HTTPError as error:
            reason = _http_reason(error.code)
            raise DownloadError(
                f"{url}: HTTP {error.code} {error.reason}",
                reason.value,
                failure_for(reason).permanent,
            ) from error
        except (urllib.error.URLError, OSError) as error:
            cause = getattr(error, "reason", error)
            timed_out = isinstance(cause, TimeoutError) or isinstance(error, TimeoutError)
            reason = FailureReason.TIMEOUT if timed_out else FailureReason.CONNECTION
            raise DownloadError(f"{url}: cannot download ({cause})", reason.value) from error
        report = check_weights(tmp, kind)
        if not report.ok:
            raise ModelError(f"{url}: downloaded file is not valid: {report.problems[0].message()}")
    report.path = dest
    return report


def fetch_weights(
    cache_dir: Pathlike | None = None,
    kinds: Iterable[WeightsKind] = tuple(WeightsKind),
    base_url: str = BASE_URL,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    force: bool = False,
    progress: ProgressFn | None = None,
) -> list[FetchResult]:
    """Make sure each official file is in ``cache_dir`` and valid; download what is not.

    A valid file already there is kept (``CACHED``) unless ``force``. A failure is recorded in
    its result (``FAILED`` with a one-line ``error``) and the other files are still fetched.

    Args:
        progress: called with the number of bytes just received.
    """
    folder = Path(cache_dir or default_cache_dir())
    results: list[FetchResult] = []
    for kind in kinds:
        dest = folder / FILENAMES[kind]
        url = weights_url(kind, base_url)
        if dest.is_file() and not force:
            with contextlib.suppress(ModelError):
                report = check_weights(dest, kind)
                if report.ok:
                    results.append(
                        FetchResult(kind, dest, FetchStatus.CACHED, url, None, report.sha256)
                    )
                    continue
            log.warning("%s: cached file is not valid; downloading it again", dest)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            report = download_weights(
                kind, dest, url, timeout_s, (lambda n, _t: progress(n)) if progress else None
            )
        except (DownloadError, ModelError, OSError) as error:
            log.info("%s", error)  # returned in the result; the caller reports it
            results.append(FetchResult(kind, dest, FetchStatus.FAILED, url, str(error)))
            continue
        results.append(FetchResult(kind, dest, FetchStatus.DOWNLOADED, url, None, report.sha256))
    return results
