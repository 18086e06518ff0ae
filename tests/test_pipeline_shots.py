"""The pipeline's decode-once shot loop: shots, batched detection and detect-every-N holds."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from voxrepro.detect.base import Detector
from voxrepro.media import VideoWriter
from voxrepro.pipeline.clock import StageClock
from voxrepro.pipeline.framestore import ShotFrames
from voxrepro.pipeline.shots import iter_shots

W, H = 160, 96
# Three shots of 40, 30 and 50 frames: very different colours make hard cuts (spec §5).
SHOT_COLOURS = ((20, 20, 200), (200, 30, 30), (10, 60, 10))
SHOT_LENGTHS = (40, 30, 50)


def draw_mark(frame: np.ndarray, index: int) -> None:
    # Two grey 16x16 blocks hold the index in base 32, 8 grey levels apart: robust to H.264.
    frame[:16, :16] = 8 * (index % 32)
    frame[:16, 16:32] = 8 * (index // 32)


def read_mark(frame: np.ndarray) -> int:
    low = round(float(frame[4:12, 4:12].mean()) / 8)
    high = round(float(frame[4:12, 20:28].mean()) / 8)
    return 32 * high + low


class RecordingDetector(Detector):
    """Test double: one box per frame whose x1 is the frame's own index (read from pixels)."""

    NAME = "recording"

    def __init__(self) -> None:
        self.batches: list[int] = []
        self.seen_marks: list[int] = []

    def detect_batch(self, frames: Sequence[np.ndarray]) -> list[np.ndarray]:
        self.batches.append(len(frames))
        out = []
        for frame in frames:
            mark = read_mark(frame)
            self.seen_marks.append(mark)
            out.append(np.array([[mark, 10.0, mark + 50.0, 60.0, 0.99]]))
        return out


@dataclass(frozen=True)
class Prepared:
    """What PreparingDetector.prepare hands back: the frame's mark, not the frame."""

    mark: int


class PreparingDetector(RecordingDetector):
    """Test double with a ``prepare`` of its own: counts the calls and where they ran."""

    def __init__(self) -> None:
        super().__init__()
        self.prepared_marks: list[int] = []
        self.prepare_threads: set[str] = set()
        self.prepared_items: list[object] = []

    def prepare(self, frame: np.ndarray) -> object:
        self.prepare_threads.add(threading.current_thread().name)
        self.prepared_marks.append(read_mark(frame))
        return Prepared(self.prepared_marks[-1])

    def detect_prepared(self, prepared: Sequence[object]) -> list[np.ndarray]:
        self.batches.append(len(prepared))
        self.prepared_items.extend(prepared)
        marks = [item.mark if isinstance(item, Prepared) else -1 for item in prepared]
        self.seen_marks.extend(marks)
        return [np.array([[mark, 10.0, mark + 50.0, 60.0, 0.99]]) for mark in marks]


@pytest.fixture(scope="module")
def shot_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("shots") / "three_shots.mp4"
    index = 0
    with VideoWriter(path, width=W, height=H, fps=25, audio_rate=None, crf=0) as writer:
        for colour, length in zip(SHOT_COLOURS, SHOT_LENGTHS, strict=True):
            for _ in range(length):
                frame = np.empty((H, W, 3), np.uint8)
                frame[:] = colour
                draw_mark(frame, index)
                writer.write_frame(frame)
                index += 1
    return path


def _run(
    path: Path,
    detect_every: int,
    batch_size: int = 7,
    detector: RecordingDetector | None = None,
):
    detector = detector or RecordingDetector()
    shots = []
    for shot in iter_shots(
        path,
        detector,
        batch_size=batch_size,
        detect_every=detect_every,
        clock=StageClock(),
        shot_buffer_bytes=1 << 30,
    ):
        shots.append((shot.start, shot.end, [d.copy() for d in shot.complete_detections()]))
    return shots, detector


def test_shots_follow_the_cuts_and_every_frame_is_detected(shot_video: Path) -> None:
    shots, detector = _run(shot_video, detect_every=1)
    assert [(s, e) for s, e, _ in shots] == [(0, 40), (40, 70), (70, 120)]
    assert sum(detector.batches) == 120
    assert max(detector.batches) <= 7
    for start, _, detections in shots:
        marks = [int(d[0, 0]) for d in detections]
        assert marks == list(range(start, start + len(detections)))


def test_detect_every_holds_boxes_with_exact_frame_numbers(shot_video: Path) -> None:
    shots, detector = _run(shot_video, detect_every=3)
    # Detected frames: every third frame of each shot, counted from the shot's first frame.
    bounds = ((0, 40), (40, 70), (70, 120))
    expected_detected = [s + i for s, e in bounds for i in range(0, e - s, 3)]
    assert detector.seen_marks == expected_detected
    for start, _, detections in shots:
        for local, boxes in enumerate(detections):
            held_from = start + (local // 3) * 3  # never from the previous shot
            assert int(boxes[0, 0]) == held_from


def test_prepare_runs_on_the_decoding_thread_when_every_frame_is_detected(
    shot_video: Path,
) -> None:
    detector = PreparingDetector()
    shots, _ = _run(shot_video, detect_every=1, detector=detector)
    # Every frame prepared once, in order, on the prefetch (decoding) thread ...
    assert detector.prepared_marks == list(range(120))
    assert detector.prepare_threads == {"voxrepro-prefetch"}
    # ... and detect_prepared sees only what prepare returned, never a raw frame.
    assert all(isinstance(item, Prepared) for item in detector.prepared_items)
    assert len(detector.prepared_items) == 120 and max(detector.batches) <= 7
    for start, _, detections in shots:
        assert [int(d[0, 0]) for d in detections] == list(range(start, start + len(detections)))


def test_prepare_is_called_only_for_detected_frames(shot_video: Path) -> None:
    detector = PreparingDetector()
    shots, _ = _run(shot_video, detect_every=3, detector=detector)
    # With holds, the decoding thread prepares nothing: the main loop prepares only the
    # frames it detects (every third of each shot), not all 120.
    bounds = ((0, 40), (40, 70), (70, 120))
    expected_detected = [s + i for s, e in bounds for i in range(0, e - s, 3)]
    assert len(expected_detected) == 41
    assert detector.prepared_marks == detector.seen_marks == expected_detected
    assert detector.prepare_threads == {threading.main_thread().name}
    for start, _, detections in shots:
        for local, boxes in enumerate(detections):
            assert int(boxes[0, 0]) == start + (local // 3) * 3


def test_shot_frames_spill_to_disk_and_read_back_exactly(tmp_path: Path) -> None:
    frame_bytes = 32 * 32 * 3
    store = ShotFrames(max_bytes=frame_bytes * 3, spill_dir=tmp_path)
    frames = [np.full((32, 32, 3), i, np.uint8) for i in range(8)]
    for frame in frames:
        store.append(frame)
    assert store.spilled and len(store) == 8
    for i, frame in enumerate(frames):
        assert np.array_equal(store[i], frame)
    with pytest.raises(IndexError):
        store[8]
    store.clear()
    assert len(store) == 0 and not any(tmp_path.iterdir())


def test_shot_frames_refuse_a_size_change() -> None:
    store = ShotFrames(max_bytes=1 << 20)
    store.append(np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(ValueError, match="frame size changed"):
        store.append(np.zeros((5, 4, 3), np.uint8))
