"""Coverage per source video and per identity: official, available, rebuilt, matched.

Column meanings (each count is of *official* segments unless it says generated):

* official: segments in the official metafiles;
* available: of those, in videos that were available to the rebuild (see ``availability``);
* rebuilt: of those, overlapped in time by at least one generated segment (tIoU > 0);
* matched: of those, with a one-to-one partner at tIoU >= threshold;
* generated / extra: generated segments of the video, and those without a partner.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from voxrepro.audit.geometry import FloatArray, IntArray
from voxrepro.audit.metrics import ratio
from voxrepro.audit.table import MatchTable


def _counts(index: IntArray, size: int, weights: np.ndarray | None = None) -> FloatArray:
    return np.bincount(index, weights=weights, minlength=size)[:size]


def _nan_mean_by(index: IntArray, values: FloatArray, mask: np.ndarray, size: int) -> FloatArray:
    keep = mask & np.isfinite(values)
    total = _counts(index[keep], size, values[keep])
    count = _counts(index[keep], size)
    out = np.full(size, np.nan)
    np.divide(total, count, out=out, where=count > 0)
    return out


def _maybe(value: float) -> float | None:
    return None if not np.isfinite(value) else float(value)


def summarise_videos(table: MatchTable, tiou_threshold: float) -> list[dict[str, Any]]:
    """One row per reference (official or generated), in reference order."""
    size = len(table.references)
    vid, gvid = table.off_video, table.gen_video
    available = table.off_available
    matched = table.off_matched(tiou_threshold) & available
    gen_matched = table.gen_matched(tiou_threshold)
    official = _counts(vid, size)
    n_available = _counts(vid, size, available.astype(float))
    rebuilt = _counts(vid, size, ((table.off_best_tiou > 0) & available).astype(float))
    n_matched = _counts(vid, size, matched.astype(float))
    generated = _counts(gvid, size)
    gen_hit = _counts(gvid, size, gen_matched.astype(float))
    frames = _counts(vid, size, np.where(available, table.off_num_frames, 0).astype(float))
    hits = _counts(vid, size, np.where(available, table.off_frame_hits, 0).astype(float))
    mean_tiou = _nan_mean_by(vid, table.off_best_tiou, available, size)
    mean_box = _nan_mean_by(vid, table.off_box_iou_mean, matched, size)
    identities: list[set[str]] = [set() for _ in range(size)]
    for index, segment in zip(vid.tolist(), table.off_segments, strict=True):
        identities[index].add(segment.identity)

    rows = []
    for i, ref in enumerate(table.references):
        state = table.availability.get(ref)
        rows.append(
            {
                "reference": ref,
                "identities": ",".join(sorted(identities[i])),
                "available": state.available if state else True,
                "download_status": state.status if state else None,
                "failure_class": state.failure_class if state else None,
                "reason": state.reason if state else None,
                "official": int(official[i]),
                "available_segments": int(n_available[i]),
                "rebuilt": int(rebuilt[i]),
                "matched": int(n_matched[i]),
                "missed": int(n_available[i] - n_matched[i]),
                "generated": int(generated[i]),
                "extra": int(generated[i] - gen_hit[i]),
                "recall": ratio(n_matched[i], n_available[i]) if n_available[i] else None,
                "precision": ratio(gen_hit[i], generated[i]) if generated[i] else None,
                "frame_recall": ratio(hits[i], frames[i]) if frames[i] else None,
                "mean_best_tiou": _maybe(mean_tiou[i]),
                "mean_box_iou": _maybe(mean_box[i]),
            }
        )
    return rows


def select_worst_videos(videos: list[dict[str, Any]], limit: int = 10) -> list[dict[str, Any]]:
    """Available videos with official segments, lowest recall first (then most missed)."""
    candidates = [v for v in videos if v["available_segments"] > 0]
    candidates.sort(key=lambda v: (v["recall"], -v["missed"], v["mean_best_tiou"] or 0.0))
    return candidates[:limit]


def summarise_identities(table: MatchTable, tiou_threshold: float) -> list[dict[str, Any]]:
    """One row per official identity, sorted by identity."""
    if not table.off_segments:
        return []
    names, index = np.unique([s.identity for s in table.off_segments], return_inverse=True)
    size = names.shape[0]
    available = table.off_available
    matched = table.off_matched(tiou_threshold) & available
    official = _counts(index, size)
    n_available = _counts(index, size, available.astype(float))
    rebuilt = _counts(index, size, ((table.off_best_tiou > 0) & available).astype(float))
    n_matched = _counts(index, size, matched.astype(float))
    frames = _counts(index, size, np.where(available, table.off_num_frames, 0).astype(float))
    hits = _counts(index, size, np.where(available, table.off_frame_hits, 0).astype(float))
    pairs = np.unique(np.stack([index, table.off_video]), axis=1)
    videos = _counts(pairs[0], size)
    unavailable = _counts(pairs[0], size, (~_video_available(table)[pairs[1]]).astype(float))
    return [
        {
            "identity": str(name),
            "videos": int(videos[i]),
            "unavailable_videos": int(unavailable[i]),
            "official": int(official[i]),
            "available_segments": int(n_available[i]),
            "rebuilt": int(rebuilt[i]),
            "matched": int(n_matched[i]),
            "missed": int(n_available[i] - n_matched[i]),
            "recall": ratio(n_matched[i], n_available[i]) if n_available[i] else None,
            "frame_recall": ratio(hits[i], frames[i]) if frames[i] else None,
        }
        for i, name in enumerate(names.tolist())
    ]


def _video_available(table: MatchTable) -> np.ndarray:
    return np.array(
        [
            table.availability[r].available if r in table.availability else True
            for r in table.references
        ],
        dtype=bool,
    )


def list_unavailable_videos(
    table: MatchTable, videos: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Videos never available to the rebuild, with the download failure class and reason."""
    return [
        {
            "reference": v["reference"],
            "identities": v["identities"],
            "official": v["official"],
            "download_status": v["download_status"],
            "failure_class": v["failure_class"],
            "reason": v["reason"],
            "message": table.availability[v["reference"]].message,
        }
        for v in videos
        if not v["available"]
    ]
