"""SyncNet v2: the model and its loader, MFCC/window features, and track scoring (spec §8)."""

from __future__ import annotations

from voxrepro.syncnet.features import compute_mfcc, count_windows
from voxrepro.syncnet.model import (
    SyncNetV2,
    expected_syncnet_shapes,
    find_state_problems,
    load_syncnet,
    make_random_syncnet,
)
from voxrepro.syncnet.reference import score_track_reference
from voxrepro.syncnet.score import (
    VSHIFT,
    SyncResult,
    compute_distances,
    framewise_confidence,
    offset_confidence,
    score_track,
    window_confidence,
)

__all__ = [
    "VSHIFT",
    "SyncNetV2",
    "SyncResult",
    "compute_distances",
    "compute_mfcc",
    "count_windows",
    "expected_syncnet_shapes",
    "find_state_problems",
    "framewise_confidence",
    "load_syncnet",
    "make_random_syncnet",
    "offset_confidence",
    "score_track",
    "score_track_reference",
    "window_confidence",
]
