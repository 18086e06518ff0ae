"""Clip-level audit: decode a rebuilt clip and the official one, compare them frame by frame.

Frames are aligned on the 25 fps timeline: frame i of a clip is timeline frame
``segment.first_frame + i``, so only the timeline frames both clips hold are compared (a
generated clip that starts k frames late is compared from its frame 0 against the official
clip's frame k). The generated frame is resized to the official size when they differ.
Per clip: frame counts, durations (frames / 25 s), PSNR from the MSE pooled over the compared
frames, mean SSIM over them (``similarity``), and the audio length difference in seconds.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from voxrepro.audit.similarity import compute_mse, compute_ssim, match_size, psnr_from_mse
from voxrepro.audit.table import MatchTable
from voxrepro.errors import VoxreproError
from voxrepro.media import iter_timeline, read_audio
from voxrepro.safety import safe_join
from voxrepro.segment import Segment
from voxrepro.types import AUDIO_RATE, TIMELINE_FPS, Pathlike, ProgressFn

log = logging.getLogger("voxrepro")

#: Where a segment's clip may live under a clip folder, tried in order.
CLIP_LAYOUTS: tuple[tuple[str, ...], ...] = (
    ("{identity}", "{reference}", "{utterance}.mp4"),
    ("mp4", "{identity}", "{reference}", "{utterance}.mp4"),
    ("{reference}", "{utterance}.mp4"),
)


#: A pipeline output folder records each segment's clip in ``videos/<reference>.json``.
PIPELINE_VIDEO_RECORDS = "videos"


class ClipLocator:
    """Finds the clip of a segment under one clip folder.

    A pipeline output folder (``voxrepro pipeline --out``) is read through its per-video
    records (``videos/<reference>.json``: utterance -> ``clips/<ref>/<track>_<seg>.mp4``);
    any other folder is searched with ``CLIP_LAYOUTS`` (``recrop`` writes the first one).
    """

    def __init__(self, root: Pathlike) -> None:
        self.root = Path(root)
        self._records: dict[str, dict[str, str]] = {}

    def _pipeline_clips(self, reference: str) -> dict[str, str]:
        if reference not in self._records:
            mapping: dict[str, str] = {}
            record = safe_join(self.root, PIPELINE_VIDEO_RECORDS, f"{reference}.json")
            if record.is_file():
                try:
                    body = json.loads(record.read_text(encoding="utf-8"))
                    mapping = {str(s["utterance"]): str(s["clip"]) for s in body["segments"]}
                except (OSError, ValueError, KeyError, TypeError) as error:
                    log.warning("%s: unreadable pipeline record (%s)", record, error)
            self._records[reference] = mapping
        return self._records[reference]

    def find(self, segment: Segment) -> Path | None:
        """The clip file of ``segment``, None if absent.

        Raises:
            InvalidInputError: an id or recorded path would leave the clip folder.
        """
        recorded = self._pipeline_clips(segment.reference).get(segment.utterance)
        if recorded is not None:
            path = safe_join(self.root, *Path(recorded).parts)
            return path if path.is_file() else None
        values = {
            "identity": segment.identity,
            "reference": segment.reference,
            "utterance": segment.utterance,
        }
        for layout in CLIP_LAYOUTS:
            path = safe_join(self.root, *(part.format(**values) for part in layout))
            if path.is_file():
                return path
        return None


def _grey_frames(path: Path) -> list[np.ndarray]:
    return [frame.to_grey().copy() for frame in iter_timeline(path)]


def compare_clip_files(
    official_path: Path, generated_path: Path, official_first: int, generated_first: int
) -> dict[str, Any]:
    """Frame counts, PSNR, SSIM and audio difference of one clip pair (timeline-aligned).

    Raises:
        DecodeError: either file cannot be decoded.
    """
    off, gen = _grey_frames(official_path), _grey_frames(generated_path)
    start = max(official_first, generated_first)
    stop = min(official_first + len(off), generated_first + len(gen))
    mse_total, ssims = 0.0, []
    for t in range(start, stop):
        a = off[t - official_first]
        b = match_size(gen[t - generated_first], a.shape)
        mse_total += compute_mse(a, b)
        ssims.append(compute_ssim(a, b))
    compared = max(0, stop - start)
    audio_off = read_audio(official_path).shape[0]
    audio_gen = read_audio(generated_path).shape[0]
    return {
        "official_frames": len(off),
        "generated_frames": len(gen),
        "official_seconds": len(off) / TIMELINE_FPS,
        "generated_seconds": len(gen) / TIMELINE_FPS,
        "compared_frames": compared,
        "psnr_db": psnr_from_mse(mse_total / compared) if compared else None,
        "ssim": float(np.mean(ssims)) if compared else None,
        "audio_diff_seconds": (audio_gen - audio_off) / AUDIO_RATE,
    }


def _pairs(table: MatchTable, tiou_threshold: float) -> Iterator[tuple[Segment, Segment]]:
    matched = table.off_matched(tiou_threshold) & table.off_available
    for i in np.flatnonzero(matched).tolist():
        yield table.off_segments[i], table.gen_segments[int(table.off_partner[i])]


def count_clip_pairs(table: MatchTable, tiou_threshold: float) -> int:
    return int((table.off_matched(tiou_threshold) & table.off_available).sum())


def compare_clips(
    table: MatchTable,
    tiou_threshold: float,
    official_dir: Pathlike,
    generated_dir: Pathlike,
    progress: ProgressFn | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Compare the clips of every matched segment pair; a failing pair is recorded, not raised.

    Returns:
        (rows, summary): one row per matched pair (with ``error`` set when its clips are
        missing or undecodable) and summary keys ``clips_compared``, ``clips_failed``,
        ``mean_psnr_db``, ``mean_ssim``, ``mean_abs_audio_diff_seconds``.
    """
    rows: list[dict[str, Any]] = []
    official_clips, generated_clips = ClipLocator(official_dir), ClipLocator(generated_dir)
    for off, gen in _pairs(table, tiou_threshold):
        row: dict[str, Any] = {"official": "/".join(off.key), "generated": "/".join(gen.key)}
        try:
            off_path, gen_path = official_clips.find(off), generated_clips.find(gen)
            if off_path is None or gen_path is None:
                missing = "official" if off_path is None else "generated"
                row["error"] = f"{missing} clip not found"
            else:
                row.update(compare_clip_files(off_path, gen_path, off.first_frame, gen.first_frame))
        except VoxreproError as error:
            row["error"] = str(error)
        rows.append(row)
        if progress is not None:
            progress(1)
    ok = [r for r in rows if "error" not in r]
    psnr = [r["psnr_db"] for r in ok if r["psnr_db"] is not None]
    ssim = [r["ssim"] for r in ok if r["ssim"] is not None]
    summary = {
        "clips_compared": len(ok),
        "clips_failed": len(rows) - len(ok),
        "mean_psnr_db": float(np.mean(psnr)) if psnr else None,
        "mean_ssim": float(np.mean(ssim)) if ssim else None,
        "mean_abs_audio_diff_seconds": (
            float(np.mean([abs(r["audio_diff_seconds"]) for r in ok])) if ok else None
        ),
    }
    return rows, summary
