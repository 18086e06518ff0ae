"""Profile one pipeline worker in-process (cProfile) on the benchmark's synthetic 720p video.

python scripts/profile_worker.py --device cuda --frames 750 --fp16
"""

from __future__ import annotations

import argparse
import cProfile
import importlib.util
import os
import pstats
import sys
import tempfile
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "bench", Path(__file__).with_name("bench_pipeline.py")
)
assert _spec is not None and _spec.loader is not None
bench = importlib.util.module_from_spec(_spec)
sys.modules["bench"] = bench
_spec.loader.exec_module(bench)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--frames", type=int, default=250)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--fp16", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        video = work / "talk720p.mp4"
        boxes = bench.write_video(video, args.frames)
        s3fd, syncnet = bench.random_weights(work)
        settings = bench.PipelineSettings(
            detector="s3fd",
            syncnet_weights=syncnet,
            device=args.device,
            batch_size=args.batch_size,
            syncnet_batch_size=128,
            fp16=args.fp16,
        )
        bench._init_worker(str(s3fd), boxes, settings, args.fp16, args.threads, args.threads)
        bench._run_one((str(video), str(work / "warm")))
        profile = cProfile.Profile()
        profile.enable()
        result = bench._run_one((str(video), str(work / "out")))
        profile.disable()
        print(result["timings"], result["frames"])
        # CPU well above wall time with one busy thread means idle pools spinning (run9 in
        # reports/bench/pipeline_h100_variants.json: OpenBLAS, one thread per core, x3).
        per_frame = 1000 / max(1, result["frames"])
        threads = len(os.listdir("/proc/self/task")) if os.path.isdir("/proc/self/task") else "?"
        print(
            f"worker: {result['cpu_seconds'] * per_frame:.2f} ms CPU a frame over "
            f"{result['timings']['total'] * per_frame:.2f} ms wall; {threads} threads alive"
        )
        pstats.Stats(profile).sort_stats("tottime").print_stats(12)
        # The detector runs on a background thread in the pipeline: profile it directly too.
        import voxrepro.pipeline.video as video_module
        from voxrepro.media import iter_timeline_frames

        detector = video_module.get_detector(settings)
        frames = [f for _, f in iter_timeline_frames(video, 0, args.batch_size * 2)]
        detector.detect_batch(frames)
        profile = cProfile.Profile()
        profile.enable()
        detector.detect_batch(frames)
        profile.disable()
        pstats.Stats(profile).sort_stats("tottime").print_stats(12)


if __name__ == "__main__":
    main()
