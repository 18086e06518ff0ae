"""Benchmark ``recrop`` against the naive way: one ffmpeg seek+crop subprocess per segment.

Builds (once, cached) a 720p 30 fps H.264 + AAC source with textured moving content, draws 20
VoxCeleb2-like segments (3-6 s, random starts, fixed seed, one box per segment), then times,
interleaved and repeated, three ways of writing the same 20 clips (224x224 H.264 libx264
``veryfast`` crf 18 + AAC 16 kHz mono, bilinear resize, in all three):

* **voxrepro**: ``run_recrop`` (one pass over the source, only the keyframe intervals that hold
  wanted frames decoded, encoding on a second thread);
* **ffmpeg_input_seek**: per segment ``ffmpeg -ss START -i SRC -t DUR -vf crop,scale -r 25 ...``
  with imageio-ffmpeg's binary (argument lists): fast input seeking, the strongest naive baseline;
* **ffmpeg_output_seek**: per segment ``ffmpeg -i SRC -ss START -t DUR ...``, the form the STELA
  and FOMM re-croppers run (spec §10.2), which decodes from the start of the video every time.

Wall time depends on what else runs on the machine; CPU time (user + system, all threads and
child processes) is reported too. Writes ``reports/bench/recrop.json`` and prints the ratios.

    .venv/bin/python scripts/bench_recrop.py [--repeats 3] [--output-seek-repeats 1]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import av
import cv2
import imageio_ffmpeg
import numpy as np

from voxrepro import media, synth
from voxrepro.atomic import write_json_atomic
from voxrepro.recrop import run_recrop
from voxrepro.recrop_plan import RecropSettings
from voxrepro.segment import Segment, make_segment

REPO = Path(__file__).resolve().parents[1]
REPORT = REPO / "reports" / "bench" / "recrop.json"
WIDTH, HEIGHT, FPS, GOP = 1280, 720, 30, 150
REFERENCE = "benchSRC720"
SEGMENTS, SEED = 20, 20261125
SIZE = 224
VOXREPRO, INPUT_SEEK, OUTPUT_SEEK = "voxrepro", "ffmpeg_input_seek", "ffmpeg_output_seek"
METHODS = (VOXREPRO, INPUT_SEEK, OUTPUT_SEEK)
TARGET = 3.0  # the speed-up asked for in the task


def textured_frames(count: int, seed: int = 0) -> Iterator[np.ndarray]:
    """Moving blurred-noise texture plus the barcode (BGR frames).

    Closer to camera footage in bitrate than a flat ramp, so decoding costs what real video
    costs (about 1.5 Mb/s at 720p, crf 23).
    """
    rng = np.random.default_rng(seed)
    texture = rng.integers(0, 256, (HEIGHT + 64, WIDTH + 64, 3), dtype=np.uint8)
    texture = cv2.GaussianBlur(texture, (0, 0), 3)
    texture = cv2.normalize(texture, None, 40, 215, cv2.NORM_MINMAX)
    for index in range(count):
        dy, dx = (index // 2) % 64, index % 64
        frame = np.ascontiguousarray(texture[dy : dy + HEIGHT, dx : dx + WIDTH])
        synth.draw_barcode(frame, index, (560, 200, 160))
        yield frame


def make_source(work: Path, seconds: int) -> Path:
    """The cached source, generated when missing (the marker says it was finished)."""
    path = work / f"{REFERENCE}.mp4"
    marker = work / f"{REFERENCE}.{seconds}s.done"
    if path.is_file() and marker.is_file():
        return path
    frames = seconds * FPS
    with media.VideoWriter(
        path,
        width=WIDTH,
        height=HEIGHT,
        fps=FPS,
        audio_rate=44_100,
        crf=23,
        preset="veryfast",
        gop=GOP,
    ) as writer:
        for frame in textured_frames(frames):
            writer.write_frame(frame)
        writer.write_audio(synth.make_tone(seconds, 44_100))
    marker.write_text("ok\n")
    return path


def make_segments(num_frames_25: int) -> list[Segment]:
    """20 segments of 3-6 s at random places (seeded); one box per segment, inside the frame."""
    rng = np.random.default_rng(SEED)
    segments = []
    for i in range(SEGMENTS):
        length = int(rng.integers(75, 151))
        first = int(rng.integers(0, num_frames_25 - length - 1))
        side = int(rng.integers(200, 500))
        x, y = int(rng.integers(0, WIDTH - side)), int(rng.integers(0, HEIGHT - side))
        box = [x / WIDTH, y / HEIGHT, side / WIDTH, side / HEIGHT]
        segments.append(
            make_segment(
                "id00001",
                REFERENCE,
                f"{i + 1:05d}",
                range(first, first + length),
                [box] * length,
                dataset="vox2",
            )
        )
    return segments


def naive_command(source: Path, segment: Segment, dest: Path, input_seek: bool) -> list[str]:
    x, y, w, h = (round(v) for v in segment.boxes[0] * [WIDTH, HEIGHT, WIDTH, HEIGHT])
    seek = ["-ss", f"{segment.first_frame / 25:.3f}"]
    source_args = [*seek, "-i", str(source)] if input_seek else ["-i", str(source), *seek]
    return [
        imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-y", "-v", "error",
        *source_args, "-t", f"{segment.num_frames / 25:.3f}",
        "-vf", f"crop={w}:{h}:{x}:{y},scale={SIZE}:{SIZE}:flags=bilinear", "-r", "25",
        "-c:v", "libx264", "-preset", media.CLIP_PRESET, "-crf", str(media.CLIP_CRF),
        "-pix_fmt", "yuv420p", "-c:a", "aac", "-aac_coder", "fast", "-ar", "16000", "-ac", "1",
        str(dest),
    ]  # fmt: skip


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def run_naive(
    source: Path, segments: list[Segment], out: Path, input_seek: bool
) -> tuple[float, float]:
    """Wall and CPU seconds (the ffmpeg children's user + system time)."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    cpu, started = _cpu(resource.RUSAGE_CHILDREN), time.perf_counter()
    for segment in segments:
        dest = out / f"{segment.utterance}.mp4"
        subprocess.run(naive_command(source, segment, dest, input_seek), check=True)
    return time.perf_counter() - started, _cpu(resource.RUSAGE_CHILDREN) - cpu


def run_ours(videos: Path, segments: list[Segment], out: Path) -> tuple[float, float]:
    """Wall and CPU seconds (this process, all its threads)."""
    shutil.rmtree(out, ignore_errors=True)
    cpu, started = _cpu(resource.RUSAGE_SELF), time.perf_counter()
    summary = run_recrop(segments, RecropSettings(videos, out, size=SIZE))
    elapsed = time.perf_counter() - started, _cpu(resource.RUSAGE_SELF) - cpu
    if summary.failed:
        raise SystemExit(f"recrop failed: {summary.failures[:3]}")
    return elapsed


def count_frames(folder: Path) -> list[int]:
    return [sum(1 for _ in media.iter_timeline(p)) for p in sorted(folder.rglob("0*.mp4"))]


def union_frames(segments: list[Segment]) -> int:
    covered: set[int] = set()
    for segment in segments:
        covered.update(segment.frames.tolist())
    return len(covered)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output-seek-repeats", type=int, default=1)
    parser.add_argument("--seconds", type=int, default=90)
    parser.add_argument("--work", type=Path, default=Path("/tmp/voxrepro-bench-recrop"))
    parser.add_argument("--report", type=Path, default=REPORT)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    videos = args.work / "videos"
    videos.mkdir(exist_ok=True)
    started = time.perf_counter()
    cached = (videos / f"{REFERENCE}.{args.seconds}s.done").is_file()
    source = make_source(videos, args.seconds)
    generate_s = None if cached else round(time.perf_counter() - started, 1)
    info = media.probe_video(source)
    timeline = sum(1 for _ in media.iter_timeline(source))
    segments = make_segments(timeline)
    output_frames = sum(s.num_frames for s in segments)

    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in METHODS}
    outputs = {name: args.work / name for name in METHODS}

    def measure(name: str) -> None:
        if name == VOXREPRO:
            runs[name].append(run_ours(videos, segments, outputs[name]))
        else:
            input_seek = name == INPUT_SEEK
            runs[name].append(run_naive(source, segments, outputs[name], input_seek))
        wall, cpu = runs[name][-1]
        load = os.getloadavg()[0]
        print(f"{name:20s} {wall:7.2f} s wall {cpu:7.2f} s cpu  (load {load:.1f})", flush=True)

    for _ in range(args.repeats):
        measure(INPUT_SEEK)
        measure(VOXREPRO)
    for _ in range(args.output_seek_repeats):
        measure(OUTPUT_SEEK)
    results = {}
    for name, timings in runs.items():
        wall = statistics.median(w for w, _ in timings)
        cpu = statistics.median(c for _, c in timings)
        results[name] = {
            "wall_seconds": [round(w, 3) for w, _ in timings],
            "cpu_seconds": [round(c, 3) for _, c in timings],
            "median_wall_seconds": round(wall, 3),
            "median_cpu_seconds": round(cpu, 3),
            "output_frames_per_second_wall": round(output_frames / wall, 1),
            "frames_written": sum(count_frames(outputs[name])),
        }
    ours = results[VOXREPRO]
    speedups = {
        f"vs_{name}": {
            "wall": round(results[name]["median_wall_seconds"] / ours["median_wall_seconds"], 2),
            "cpu": round(results[name]["median_cpu_seconds"] / ours["median_cpu_seconds"], 2),
        }
        for name in (INPUT_SEEK, OUTPUT_SEEK)
    }
    report = {
        "what": "recrop: one decoding pass (voxrepro) vs one ffmpeg seek+crop per segment",
        "machine": {
            "cpus": os.cpu_count(),
            "cpu": _cpu_name(),
            "python": platform.python_version(),
            "note": "shared 2-core VM: other engineers' jobs run at the same time, so wall "
            "times are noisy; runs are interleaved and CPU times are given too",
        },
        "versions": {"av": av.__version__, "ffmpeg": _ffmpeg_version()},
        "source": {
            "resolution": f"{info.width}x{info.height}",
            "fps": str(info.fps),
            "seconds": round(info.duration, 3),
            "codec": f"{info.video_codec} crf 23 veryfast, keyframe every {GOP} frames; aac",
            "bytes": source.stat().st_size,
            "frames_25fps": timeline,
            "generation_seconds": generate_s,  # None: reused from an earlier run
        },
        "segments": {
            "count": len(segments),
            "seed": SEED,
            "output_frames": output_frames,
            "output_seconds": output_frames / 25,
            "union_seconds": union_frames(segments) / 25,
            "lengths_frames": [s.num_frames for s in segments],
        },
        "encode": f"{SIZE}x{SIZE} libx264 {media.CLIP_PRESET} crf {media.CLIP_CRF}, bilinear "
        "resize, AAC (fast coder) 16 kHz mono: the same in every method",
        "commands": {
            INPUT_SEEK: " ".join(naive_command(source, segments[0], Path("OUT.mp4"), True)[1:]),
            OUTPUT_SEEK: " ".join(naive_command(source, segments[0], Path("OUT.mp4"), False)[1:]),
        },
        "results": results,
        "speedup": speedups,
        "target": {
            "speedup": TARGET,
            "met": {name: ratio["wall"] >= TARGET for name, ratio in speedups.items()},
            "why_not_vs_input_seek": "both ways run the same encoder on the same 2,330 frames; "
            "input seeking also decodes only the segments plus half a keyframe interval each, "
            "so decoding once saves only the overlap, the keyframe lead-ins and 20 process starts",
        },
        "load_average_at_end": round(os.getloadavg()[0], 2),
    }
    args.report.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(args.report, report)
    for name, ratio in speedups.items():
        print(f"voxrepro speedup {name}: {ratio['wall']:.2f}x wall, {ratio['cpu']:.2f}x cpu")
    print(f"wrote {args.report}")


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ffmpeg_version() -> str:
    out = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-version"], capture_output=True, text=True, check=False
    ).stdout
    return out.splitlines()[0] if out else "unknown"


if __name__ == "__main__":
    sys.exit(main())
