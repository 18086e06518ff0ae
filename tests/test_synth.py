"""synth.py: the frame-index barcode survives H.264, cropping and resizing; tones; sources."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import pytest

from voxrepro import media, synth


@pytest.mark.parametrize("index", [0, 1, 255, 4242, 65535])
def test_barcode_round_trip_on_raw_pixels(index: int) -> None:
    image = synth.make_frame(index, 200, 150, (30, 20, 100))
    assert synth.read_barcode(image, (30, 20, 100)) == index
    crop = image[20:120, 30:130]
    assert synth.read_barcode(crop) == index
    assert synth.read_barcode(cv2.resize(crop, (224, 224), interpolation=cv2.INTER_LINEAR)) == index


def test_barcode_wraps_at_16_bits() -> None:
    assert synth.read_barcode(synth.make_frame(65536 + 7, 64, 64, (0, 0, 64))) == 7


def test_unreadable_barcode_returns_none() -> None:
    grey = np.full((64, 64), 128, np.uint8)
    assert synth.read_barcode(grey) is None
    image = synth.make_frame(5, 64, 64, (0, 0, 64))
    image[20:28, 36:44] = 128  # one cell greyed out (as a badly placed crop would blur it)
    assert synth.read_barcode(image) is None


def test_region_outside_the_image_is_rejected() -> None:
    with pytest.raises(ValueError, match="does not fit"):
        synth.make_frame(0, 64, 64, (40, 0, 32))


def test_barcode_survives_h264_at_29_97_fps(tmp_path: Path) -> None:
    path = synth.write_synthetic_video(
        tmp_path / "ntsc.mp4", num_frames=45, fps="30000/1001", width=192, height=108,
        region=(70, 20, 64), crf=30,
    )
    info = media.probe_video(path)
    assert info.fps == Fraction(30000, 1001)
    timeline = media.iter_timeline(path)
    indices = [synth.read_barcode(item.to_bgr(), (70, 20, 64)) for item in timeline]
    assert None not in indices
    # 1.5 s of 29.97 fps on the 25 fps timeline: increasing, some source frames skipped.
    assert indices == sorted(indices) and len(set(indices)) == len(indices) < 45


def test_tone_has_requested_length_and_pitch() -> None:
    tone = synth.make_tone(0.5, rate=16000, frequency=1000.0)
    assert tone.dtype == np.int16 and tone.shape == (8000,)
    spectrum = np.abs(np.fft.rfft(tone.astype(np.float64)))
    assert np.argmax(spectrum) * 16000 / tone.shape[0] == pytest.approx(1000.0, abs=2)


@pytest.mark.parametrize("side", [16, 64, 128])
def test_cell_means_fast_path_matches_the_cell_loop(side: int) -> None:
    # Sides divisible by 16 take the one-call reshape; it must sample the same pixels.
    from voxrepro.synth import _cell_means_loop, cell_means

    grey = np.random.default_rng(side).integers(0, 256, (side, side)).astype(np.float64)
    fast = cell_means(grey)
    assert fast is not None
    np.testing.assert_allclose(fast, _cell_means_loop(grey), rtol=0, atol=1e-9)
