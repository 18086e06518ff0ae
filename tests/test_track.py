"""Face tracker (voxrepro.track): hand-worked cases and a literal spec §6 oracle."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.interpolate import interp1d

from voxrepro import track


def _box(x: float, y: float, size: float, height: float | None = None) -> list[float]:
    return [x, y, x + size, y + (size if height is None else height), 0.99]


def _frames(n: int) -> list[list[list[float]]]:
    return [[] for _ in range(n)]


def _as_arrays(frames: list[list[list[float]]]) -> list[np.ndarray]:
    return [np.array(f, dtype=np.float64).reshape(-1, 5) for f in frames]


# --- IoU -------------------------------------------------------------------------------------


def test_iou_continuous_no_plus_one() -> None:
    assert track.iou_xyxy([0, 0, 10, 10], [0, 0, 10, 10]) == 1.0
    assert track.iou_xyxy([0, 0, 10, 10], [5, 0, 15, 10]) == pytest.approx(50 / 150)
    assert track.iou_xyxy([0, 0, 10, 10], [10, 0, 20, 10]) == 0.0  # touching: no +1 overlap
    assert track.iou_xyxy([0, 0, 0, 0], [0, 0, 0, 0]) == 0.0
    many = track.iou_xyxy(np.array([[0, 0, 10, 10], [0, 0, 20, 20]]), [0, 0, 10, 10])
    np.testing.assert_allclose(many, [1.0, 0.25])


# --- hand-worked tracks ----------------------------------------------------------------------


def test_two_faces_two_tracks_in_seed_order() -> None:
    frames = _frames(100)
    for f in frames:
        f.append(_box(400, 100, 120))  # listed first -> seeds the first track
        f.append(_box(50, 80, 150))
    tracks = track.track_shot(_as_arrays(frames), first_frame=1000)
    assert len(tracks) == 2
    assert tracks[0].boxes_xyxy[0, 0] == 400 and tracks[1].boxes_xyxy[0, 0] == 50
    for t in tracks:
        np.testing.assert_array_equal(t.frames, np.arange(1000, 1100))
        assert t.detected.all() and t.num_detections == 100
        assert (t.start, t.end, len(t)) == (1000, 1100, 100)


def test_gap_of_20_frames_is_bridged_and_interpolated() -> None:
    frames = _frames(120)
    for i in range(120):
        if not 40 <= i < 60:  # face missing for 20 frames
            frames[i].append(_box(100 + i, 50, 120))  # moving right 1 px per frame
    (t,) = track.track_shot(_as_arrays(frames))
    np.testing.assert_array_equal(t.frames, np.arange(120))
    assert t.num_detections == 100
    assert not t.detected[40:60].any() and t.detected[:40].all() and t.detected[60:].all()
    np.testing.assert_allclose(t.boxes_xyxy[:, 0], 100 + np.arange(120))  # linear in the gap
    np.testing.assert_allclose(t.boxes_xyxy[:, 3], 170.0)


def test_gap_of_30_frames_splits_the_track() -> None:
    frames = _frames(200)
    for i in range(200):
        if not 80 <= i < 110:  # missing for 30 frames: gap 110 - 79 = 31 > 25
            frames[i].append(_box(100, 50, 120))
    tracks = track.track_shot(_as_arrays(frames))
    assert [(t.start, t.end) for t in tracks] == [(0, 80), (110, 200)]
    assert [t.num_detections for t in tracks] == [80, 90]


@pytest.mark.parametrize(("missing", "pieces"), [(24, 1), (25, 2)])
def test_gap_limit_is_num_failed_det_inclusive(missing: int, pieces: int) -> None:
    # detections at 0..89 and from 90 + missing on: the frame gap is missing + 1
    frames = _frames(200 + missing)
    for i in [*range(90), *range(90 + missing, 200 + missing)]:
        frames[i].append(_box(100, 50, 120))
    tracks = track.track_shot(_as_arrays(frames), min_track=10)
    assert len(tracks) == pieces


@pytest.mark.parametrize(
    ("width", "height", "accepted"),
    [(99, 99, False), (100, 100, False), (101, 101, True), (120, 80, True), (80, 101, True)],
)
def test_min_face_size_is_strict_on_the_larger_mean_side(
    width: float, height: float, accepted: bool
) -> None:
    frames = _frames(100)
    for f in frames:
        f.append(_box(10, 10, width, height))
    assert bool(track.track_shot(_as_arrays(frames))) is accepted


def test_vox2_min_face_size_50_keeps_a_smaller_face() -> None:
    frames = _frames(100)
    for f in frames:
        f.append(_box(10, 10, 60))
    assert track.track_shot(_as_arrays(frames)) == []
    assert len(track.track_shot(_as_arrays(frames), min_face_size=50)) == 1


@pytest.mark.parametrize(("count", "accepted"), [(75, False), (76, True)])
def test_min_track_is_strict(count: int, accepted: bool) -> None:
    frames = _frames(count)
    for f in frames:
        f.append(_box(100, 100, 150))
    assert bool(track.track_shot(_as_arrays(frames), min_track=75)) is accepted


def test_iou_exactly_threshold_does_not_join() -> None:
    # 300-px face moving 100 px per frame: IoU = 200/400 = 0.5 exactly -> never joins
    frames = _frames(100)
    for i, f in enumerate(frames):
        f.append(_box(100 * i, 0, 300))
    assert track.track_shot(_as_arrays(frames), min_track=1) == []
    # moving 99 px per frame: IoU = 201/399 > 0.5 -> one track
    for i, f in enumerate(frames):
        f[0] = _box(99 * i, 0, 300)
    (t,) = track.track_shot(_as_arrays(frames), min_track=1)
    assert t.num_detections == 100


def test_compared_with_last_appended_detection_not_the_seed() -> None:
    # slow drift: every step has IoU > 0.5 with the previous box, the end is far from the seed
    frames = _frames(100)
    for i, f in enumerate(frames):
        f.append(_box(5.0 * i, 0, 150))
    (t,) = track.track_shot(_as_arrays(frames))
    assert t.num_detections == 100
    assert track.iou_xyxy(t.boxes_xyxy[0], t.boxes_xyxy[-1]) == 0.0


def test_short_tracks_are_consumed_and_a_later_face_still_tracked() -> None:
    frames = _frames(200)
    for i in range(10):  # a 10-frame flash seeds the first pass and is dropped
        frames[i].append(_box(500, 300, 150))
    for i in range(200):
        frames[i].append(_box(0, 0, 150))
    tracks = track.track_shot(_as_arrays(frames))
    assert len(tracks) == 1 and tracks[0].boxes_xyxy[0, 0] == 0


def test_held_frames_detect_every_two() -> None:
    # SEED-style zero-order hold: frame 2k's boxes copied to frame 2k+1
    frames = _frames(120)
    for i in range(0, 120, 2):
        frames[i].append(_box(100 + i, 40, 130))
        frames[i + 1].append(_box(100 + i, 40, 130))
    (t,) = track.track_shot(_as_arrays(frames))
    assert t.num_detections == 120 and t.detected.all()
    assert t.boxes_xyxy[1, 0] == t.boxes_xyxy[0, 0] == 100


def test_bad_detection_array_names_the_frame() -> None:
    frames = [np.zeros((0, 5)), np.array([[1.0, 2.0, 3.0]])]
    with pytest.raises(ValueError, match="frame 51: detections must have shape"):
        track.track_shot(frames, first_frame=50)
    with pytest.raises(ValueError, match="frame 50: detection box is not finite"):
        track.track_shot([np.array([[np.nan, 0, 1, 1, 1]])], first_frame=50)


# --- scenes --------------------------------------------------------------------------------------


def test_track_video_splits_at_scene_cuts_and_skips_short_scenes() -> None:
    frames = _frames(300)
    for f in frames:
        f.append(_box(100, 100, 150))
    scenes = [(0, 100), (100, 150), (150, 226), (226, 300)]
    tracks = track.track_video(_as_arrays(frames), scenes)
    # (100, 150) has 50 frames < 75: skipped; (226, 300) has 74 frames: skipped;
    # (150, 226) has 76 frames >= 75 and 76 > 75 detections: tracked
    assert [(t.start, t.end) for t in tracks] == [(0, 100), (150, 226)]
    assert [t.scene for t in tracks] == [(0, 100), (150, 226)]


def test_track_video_orders_by_scene_then_creation() -> None:
    frames = _frames(200)
    for i, f in enumerate(frames):
        if i < 100:
            f.append(_box(10, 10, 150))
            f.append(_box(400, 10, 150))
        else:
            f.append(_box(700, 10, 150))
    tracks = track.track_video(_as_arrays(frames), [(0, 100), (100, 200)])
    assert [(t.scene, t.boxes_xyxy[0, 0]) for t in tracks] == [
        ((0, 100), 10.0),
        ((0, 100), 400.0),
        ((100, 200), 700.0),
    ]


# --- UP's list-mutation quirk and a literal oracle ------------------------------------------------


def _oracle_iou(a: list[float], b: list[float]) -> float:
    inter = max(0, min(a[2], b[2]) - max(a[0], b[0])) * max(0, min(a[3], b[3]) - max(a[1], b[1]))
    area_a = (a[2] - a[0]) * (a[3] - a[1])
    area_b = (b[2] - b[0]) * (b[3] - b[1])
    return inter / float(area_a + area_b - inter)


def _oracle_track_shot(
    per_frame: list[list[list[float]]], first_frame: int, min_track: int, min_face_size: float
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Spec §6 step by step, removing from the list being iterated exactly as UP does."""
    pool = [
        [{"frame": first_frame + k, "bbox": list(box[:4])} for box in boxes]
        for k, boxes in enumerate(per_frame)
    ]
    accepted = []
    while True:
        chain: list[dict] = []
        for faces in pool:
            for face in faces:
                if not chain:
                    chain.append(face)
                    faces.remove(face)
                elif face["frame"] - chain[-1]["frame"] <= 25:
                    if _oracle_iou(face["bbox"], chain[-1]["bbox"]) > 0.5:
                        chain.append(face)
                        faces.remove(face)
                        continue
                else:
                    break
        if not chain:
            return accepted
        if len(chain) > min_track:
            numbers = np.array([c["frame"] for c in chain])
            boxes = np.array([c["bbox"] for c in chain])
            span = np.arange(numbers[0], numbers[-1] + 1)
            filled = np.stack([interp1d(numbers, boxes[:, j])(span) for j in range(4)], axis=1)
            widths, heights = filled[:, 2] - filled[:, 0], filled[:, 3] - filled[:, 1]
            if max(np.mean(widths), np.mean(heights)) > min_face_size:
                accepted.append((span, filled))


def test_quirk_skips_the_detection_after_a_removed_one() -> None:
    # Frame 0 holds A and a nested box B (IoU 0.64 with A, no NMS between them, as Haar can
    # give); frames 1.. hold only A. UP seeds with A, skips B (list mutation), and B later
    # seeds its own pass. A "clean" loop would append B to A's track in frame 0.
    a = _box(100, 100, 100)
    nested = _box(110, 110, 80)
    assert track.iou_xyxy(a[:4], nested[:4]) == pytest.approx(0.64)
    frames = _frames(80)
    frames[0] = [a, nested]
    for f in frames[1:]:
        f.append(a)
    ours = track.track_shot(_as_arrays(frames), min_track=5, min_face_size=10)
    oracle = _oracle_track_shot([list(f) for f in frames], 0, min_track=5, min_face_size=10)
    assert len(ours) == 1 and ours[0].num_detections == 80  # B was not appended in frame 0
    assert len(oracle) == 1
    np.testing.assert_array_equal(ours[0].frames, oracle[0][0])


def test_quirk_can_put_two_detections_of_one_frame_in_a_track() -> None:
    # Frame 0: [A, X, C] with C nested in A; seeding A skips X and appends C (same frame).
    a = _box(100, 100, 100)
    x = _box(600, 100, 100)
    c = _box(105, 105, 90)
    frames = _frames(40)
    frames[0] = [a, x, c]
    for f in frames[1:]:
        f.append(c)
    (t,) = track.track_shot(_as_arrays(frames), min_track=5, min_face_size=10)
    assert t.num_detections == 41  # A and C both from frame 0
    oracle = _oracle_track_shot([list(f) for f in frames], 0, min_track=5, min_face_size=10)
    np.testing.assert_array_equal(t.boxes_xyxy, oracle[0][1])


def _random_shot(rng: np.random.Generator, n: int) -> list[list[list[float]]]:
    frames = _frames(n)
    for _ in range(int(rng.integers(1, 4))):
        x, y, size = rng.uniform(0, 600), rng.uniform(0, 300), rng.uniform(40, 180)
        start = int(rng.integers(0, n // 3))
        i = start
        while i < n:
            if rng.random() < 0.05:  # dropout of 1..35 frames
                i += int(rng.integers(1, 36))
                continue
            x, y = x + rng.normal(0, size * 0.05), y + rng.normal(0, size * 0.05)
            size = max(20.0, size * rng.uniform(0.97, 1.03))
            frames[i].append(_box(x, y, size, size * rng.uniform(1.0, 1.3)))
            if rng.random() < 0.03:  # an overlapping duplicate in the same frame
                frames[i].append(_box(x + 3, y + 3, size * 0.9))
            i += 1
    for f in frames:
        rng.shuffle(f)
    return frames


@pytest.mark.parametrize("seed", range(12))
def test_matches_literal_spec_oracle_on_random_shots(seed: int) -> None:
    rng = np.random.default_rng(seed)
    frames = _random_shot(rng, int(rng.integers(80, 220)))
    ours = track.track_shot(_as_arrays(frames), first_frame=500, min_track=30, min_face_size=60)
    oracle = _oracle_track_shot([list(f) for f in frames], 500, min_track=30, min_face_size=60)
    assert len(ours) == len(oracle)
    for mine, (span, filled) in zip(ours, oracle, strict=True):
        np.testing.assert_array_equal(mine.frames, span)
        np.testing.assert_array_equal(mine.boxes_xyxy, filled)
