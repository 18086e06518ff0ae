"""Clip-level audit: PSNR/SSIM maths on constructed images, timeline-aligned clip comparison."""

from __future__ import annotations

import json
import math
from pathlib import Path

import cv2
import numpy as np
import pytest

from voxrepro.audit.clips import ClipLocator, compare_clip_files, compare_clips
from voxrepro.audit.compare import match_segments
from voxrepro.audit.similarity import (
    PSNR_CAP_DB,
    SSIM_C1,
    compute_mse,
    compute_ssim,
    psnr_from_mse,
)
from voxrepro.errors import InvalidInputError
from voxrepro.media import write_clip
from voxrepro.segment import Segment, make_segment
from voxrepro.types import SAMPLES_PER_FRAME

REF = "clipclipcli"


# --- maths ------------------------------------------------------------------------------------


def test_ssim_of_identical_images_is_one() -> None:
    image = np.random.default_rng(0).integers(0, 256, (64, 80), dtype=np.uint8)
    assert compute_ssim(image, image) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize(("a", "b"), [(100, 120), (30, 200), (0, 255)])
def test_ssim_of_flat_images_has_closed_form(a: int, b: int) -> None:
    # Flat images: no variance, so SSIM = (2ab + C1) / (a² + b² + C1).
    x = np.full((40, 40), a, np.uint8)
    y = np.full((40, 40), b, np.uint8)
    expected = (2 * a * b + SSIM_C1) / (a * a + b * b + SSIM_C1)
    assert compute_ssim(x, y) == pytest.approx(expected, rel=1e-9)


def test_ssim_drops_with_noise_and_rejects_shape_mismatch() -> None:
    rng = np.random.default_rng(1)
    image = cv2.GaussianBlur(rng.integers(0, 256, (96, 96), dtype=np.uint8), (7, 7), 2)
    light = np.clip(image + rng.normal(0, 3, image.shape), 0, 255).astype(np.uint8)
    heavy = np.clip(image + rng.normal(0, 30, image.shape), 0, 255).astype(np.uint8)
    assert 1.0 > compute_ssim(image, light) > compute_ssim(image, heavy) > 0.0
    with pytest.raises(ValueError, match="equal shapes"):
        compute_ssim(image, image[:-1])


@pytest.mark.parametrize("diff", [1, 5, 20])
def test_psnr_of_a_uniform_difference(diff: int) -> None:
    a = np.full((10, 10), 100, np.uint8)
    mse = compute_mse(a, a + np.uint8(diff))
    assert mse == diff**2
    assert psnr_from_mse(mse) == pytest.approx(20 * math.log10(255 / diff))
    assert psnr_from_mse(0.0) == PSNR_CAP_DB


# --- clips ------------------------------------------------------------------------------------


def frame_for(t: int) -> np.ndarray:
    """A textured BGR frame that depends on the 25 fps timeline index ``t``."""
    y, x = np.mgrid[0:224, 0:224]
    grey = (128 + 60 * np.sin((x + 3 * t) / 9.0) + 50 * np.cos((y - 2 * t) / 13.0)).astype(np.uint8)
    image = cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)
    cv2.putText(image, str(t), (40, 130), cv2.FONT_HERSHEY_SIMPLEX, 2.2, (255, 255, 255), 5)
    return image


def write_timeline_clip(path: Path, first: int, count: int) -> Path:
    audio = (np.sin(np.arange(count * SAMPLES_PER_FRAME) / 7.0) * 8000).astype(np.int16)
    return write_clip(path, (frame_for(t) for t in range(first, first + count)), audio, 224)


def seg(utt: str, first: int, count: int, identity: str = "id00001") -> Segment:
    return make_segment(identity, REF, utt, np.arange(first, first + count),
                        np.tile((0.3, 0.2, 0.4, 0.7), (count, 1)))


@pytest.fixture(scope="module")
def clip_pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("clips")
    official = write_timeline_clip(folder / "official.mp4", 100, 40)
    generated = write_timeline_clip(folder / "generated.mp4", 103, 40)  # starts 3 frames late
    return official, generated


def test_clip_pair_is_compared_on_the_shared_timeline(clip_pair: tuple[Path, Path]) -> None:
    official, generated = clip_pair
    aligned = compare_clip_files(official, generated, 100, 103)
    assert (aligned["official_frames"], aligned["generated_frames"]) == (40, 40)
    assert aligned["official_seconds"] == 40 / 25
    assert aligned["compared_frames"] == 37
    assert aligned["ssim"] > 0.95 and aligned["psnr_db"] > 30
    assert abs(aligned["audio_diff_seconds"]) < 0.05
    # Claiming both start at 100 pairs different content: clearly worse.
    wrong = compare_clip_files(official, generated, 100, 100)
    assert wrong["compared_frames"] == 40
    assert wrong["psnr_db"] < aligned["psnr_db"] - 8 and wrong["ssim"] < aligned["ssim"] - 0.2
    same = compare_clip_files(official, official, 100, 100)
    assert same["psnr_db"] == PSNR_CAP_DB and same["ssim"] == pytest.approx(1.0)


def test_compare_clips_over_matched_pairs(clip_pair: tuple[Path, Path], tmp_path: Path) -> None:
    official_clip, generated_clip = clip_pair
    official = [seg("00001", 100, 40), seg("00002", 500, 40)]
    generated = [seg("00001", 103, 40), seg("00002", 500, 40)]
    # Official: recrop layout <identity>/<reference>/<utterance>.mp4; only 00001 exists.
    off_dir = tmp_path / "official"
    (off_dir / "id00001" / REF).mkdir(parents=True)
    (off_dir / "id00001" / REF / "00001.mp4").write_bytes(official_clip.read_bytes())
    # Generated: a pipeline output folder with its per-video record.
    gen_dir = tmp_path / "pipeline"
    (gen_dir / "clips" / REF).mkdir(parents=True)
    (gen_dir / "clips" / REF / "00000_000.mp4").write_bytes(generated_clip.read_bytes())
    (gen_dir / "videos").mkdir()
    (gen_dir / "videos" / f"{REF}.json").write_text(json.dumps({"segments": [
        {"utterance": "00001", "clip": f"clips/{REF}/00000_000.mp4"},
        {"utterance": "00002", "clip": f"clips/{REF}/00000_001.mp4"},
    ]}))
    table, _ = match_segments(official, generated)
    advanced: list[int] = []
    rows, summary = compare_clips(table, 0.5, off_dir, gen_dir, advanced.append)
    assert len(rows) == 2 and advanced == [1, 1]
    assert rows[0]["compared_frames"] == 37 and rows[0]["ssim"] > 0.95
    assert rows[1]["error"] == "official clip not found"
    assert summary["clips_compared"] == 1 and summary["clips_failed"] == 1
    assert summary["mean_ssim"] == pytest.approx(rows[0]["ssim"])


def test_clip_locator_refuses_paths_leaving_the_folder(tmp_path: Path) -> None:
    (tmp_path / "videos").mkdir()
    (tmp_path / "videos" / f"{REF}.json").write_text(
        json.dumps({"segments": [{"utterance": "00001", "clip": "../../etc/passwd"}]}))
    with pytest.raises(InvalidInputError):
        ClipLocator(tmp_path).find(seg("00001", 0, 10))
    assert ClipLocator(tmp_path).find(seg("00009", 0, 10)) is None


def test_undecodable_clip_is_recorded_not_raised(tmp_path: Path) -> None:
    for side in ("a", "b"):
        folder = tmp_path / side / "id00001" / REF
        folder.mkdir(parents=True)
        (folder / "00001.mp4").write_bytes(b"not a video")
    table, _ = match_segments([seg("00001", 0, 30)], [seg("00001", 0, 30)])
    rows, summary = compare_clips(table, 0.5, tmp_path / "a", tmp_path / "b")
    assert "official.mp4" not in rows[0]["error"] and "00001.mp4" in rows[0]["error"]
    assert summary["clips_failed"] == 1 and summary["mean_psnr_db"] is None
