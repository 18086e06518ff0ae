"""Shared fixtures: where the real data lives (../shared/data), skipping cleanly when absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("VOXREPRO_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


def _require(path: Path, what: str) -> Path:
    if not path.exists():
        pytest.skip(f"{what} not found at {path} (set VOXREPRO_SHARED_DATA to the shared data dir)")
    return path


@pytest.fixture(scope="session")
def shared_metafiles() -> Path:
    """../shared/data/metafiles: real published metafiles (read-only; never copied)."""
    return _require(SHARED_DATA / "metafiles", "real metafile samples")


@pytest.fixture(scope="session")
def shared_videos() -> Path:
    """../shared/data/videos: real talking-face videos (read-only; never copied)."""
    return _require(SHARED_DATA / "videos", "real talking-face videos")
