"""Benchmark ``recrop`` against the naive way: one ffmpeg seek+crop subprocess per segment.

Builds (once, cached) a 720p 30 fps H.264 + AAC source with textured moving content, draws 20
VoxCeleb2-like segments (3-6 s, random starts, fixed seed, one box per segment), then times,
interleaved and repeated:

* **voxrepro**: ``run_recrop`` (one decoding pass over the source, streaming clip writers);
* **naive**: per segment ``ffmpeg -ss START -i SRC -t DUR -vf crop,scale -r 25 ... clip.mp4``
  with imageio-ffmpeg's binary (argument lists), fast input seeking, same encoder settings
  (libx264 ``veryfast`` crf 18, AAC 16 kHz mono, 224x224).

Writes ``reports/bench/recrop.json`` and prints the speed ratio.

    .venv/bin/python scripts/bench_recrop.py [--repeats 3] [--seconds 90] [--work DIR]
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
    path = work / f"{REFERENCE}.mp4"
    marker = work / f"{REFERENCE}.{seconds}s.done"
    if path.is_file() and marker.is_file():
        return path
    frames = seconds * FPS
    with media.VideoWriter(
        path, width=WIDTH, height=HEIGHT, fps=FPS, audio_rate=44_100, crf=23,
        preset="veryfast", gop=GOP,
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
                "id00001", REFERENCE, f"{i + 1:05d}", range(first, first + length),
                [box] * length, dataset="vox2",
            )
        )
    return segments


def naive_command(source: Path, segment: Segment, dest: Path) -> list[str]:
    x, y, w, h = (round(v) for v in segment.boxes[0] * [WIDTH, HEIGHT, WIDTH, HEIGHT])
    start, duration = segment.first_frame / 25, segment.num_frames / 25
    return [
        imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-y", "-v", "error",
        "-ss", f"{start:.3f}", "-i", str(source), "-t", f"{duration:.3f}",
        "-vf", f"crop={w}:{h}:{x}:{y},scale={SIZE}:{SIZE}:flags=bilinear", "-r", "25",
        "-c:v", "libx264", "-preset", media.CLIP_PRESET, "-crf", str(media.CLIP_CRF),
        "-pix_fmt", "yuv420p", "-c:a", "aac", "-aac_coder", "fast", "-ar", "16000", "-ac", "1",
        str(dest),
    ]  # fmt: skip


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def run_naive(source: Path, segments: list[Segment], out: Path) -> tuple[float, float]:
    """Wall and CPU seconds (the ffmpeg children's user + system time)."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    cpu, started = _cpu(resource.RUSAGE_CHILDREN), time.perf_counter()
    for segment in segments:
        subprocess.run(naive_command(source, segment, out / f"{segment.utterance}.mp4"), check=True)
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
    parser.add_argument("--seconds", type=int, default=90)
    parser.add_argument("--work", type=Path, default=Path("/tmp/voxrepro-bench-recrop"))
    parser.add_argument("--report", type=Path, default=REPORT)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    videos = args.work / "videos"
    videos.mkdir(exist_ok=True)
    started = time.perf_counter()
    source = make_source(videos, args.seconds)
    generate_s = time.perf_counter() - started
    info = media.probe_video(source)
    timeline = sum(1 for _ in media.iter_timeline(source))
    segments = make_segments(timeline)
    output_frames = sum(s.num_frames for s in segments)

    naive_runs, our_runs = [], []
    for repeat in range(args.repeats):
        naive_runs.append(run_naive(source, segments, args.work / "naive"))
        our_runs.append(run_ours(videos, segments, args.work / "ours"))
        (nw, nc), (ow, oc) = naive_runs[-1], our_runs[-1]
        print(
            f"repeat {repeat + 1}: naive {nw:.2f} s wall / {nc:.2f} s cpu, "
            f"voxrepro {ow:.2f} s wall / {oc:.2f} s cpu (load {os.getloadavg()[0]:.1f})"
        )
    ours_frames = count_frames(args.work / "ours")
    naive_frames = count_frames(args.work / "naive")
    naive_s = statistics.median(w for w, _ in naive_runs)
    ours_s = statistics.median(w for w, _ in our_runs)
    naive_cpu = statistics.median(c for _, c in naive_runs)
    ours_cpu = statistics.median(c for _, c in our_runs)
    ratio, cpu_ratio = naive_s / ours_s, naive_cpu / ours_cpu
    report = {
        "what": "recrop: one decoding pass (voxrepro) vs one ffmpeg seek+crop per segment",
        "machine": {
            "cpus": os.cpu_count(),
            "cpu": _cpu_name(),
            "python": platform.python_version(),
            "note": "shared 2-core VM; other engineers' jobs may add noise, runs are interleaved",
        },
        "versions": {"av": av.__version__, "ffmpeg": _ffmpeg_version()},
        "source": {
            "resolution": f"{info.width}x{info.height}",
            "fps": str(info.fps),
            "seconds": round(info.duration, 3),
            "codec": f"{info.video_codec} crf 23 veryfast, keyframe every {GOP} frames; aac",
            "bytes": source.stat().st_size,
            "frames_25fps": timeline,
            "generation_seconds": round(generate_s, 1),
        },
        "segments": {
            "count": len(segments),
            "seed": SEED,
            "output_frames": output_frames,
            "output_seconds": output_frames / 25,
            "union_seconds": union_frames(segments) / 25,
            "lengths_frames": [s.num_frames for s in segments],
        },
        "encode": f"{SIZE}x{SIZE} libx264 {media.CLIP_PRESET} crf {media.CLIP_CRF} + AAC 16 kHz "
        "mono, both methods",
        "naive_command": " ".join(naive_command(source, segments[0], Path("OUT.mp4"))[1:]),
        "repeats": args.repeats,
        "load_average_at_end": round(os.getloadavg()[0], 2),
        "naive_wall_seconds": [round(w, 3) for w, _ in naive_runs],
        "voxrepro_wall_seconds": [round(w, 3) for w, _ in our_runs],
        "naive_cpu_seconds": [round(c, 3) for _, c in naive_runs],
        "voxrepro_cpu_seconds": [round(c, 3) for _, c in our_runs],
        "naive_median_wall_seconds": round(naive_s, 3),
        "voxrepro_median_wall_seconds": round(ours_s, 3),
        "naive_output_frames_per_second": round(output_frames / naive_s, 1),
        "voxrepro_output_frames_per_second": round(output_frames / ours_s, 1),
        "speedup_wall": round(ratio, 2),
        "speedup_cpu": round(cpu_ratio, 2),
        "frames_check": {
            "voxrepro_equals_segment_lengths": ours_frames == [s.num_frames for s in segments],
            "naive_total_frames": sum(naive_frames),
        },
    }
    args.report.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(args.report, report)
    print(
        f"median wall: naive {naive_s:.2f} s, voxrepro {ours_s:.2f} s -> {ratio:.2f}x; "
        f"median cpu: naive {naive_cpu:.2f} s, voxrepro {ours_cpu:.2f} s -> {cpu_ratio:.2f}x"
    )
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
