"""The host-side CPU cost of one pipeline worker per frame, with both networks' forwards stubbed.

On a GPU host the networks run on the device and the worker's CPU goes to everything around
them (decoding, conversion, resizes, shot cutting, crops, MFCCs, clip encoding). This runs that
work on the benchmark's synthetic 720p video, with S3FD's and SyncNet's forward passes replaced
by constant outputs (profiling only; the product never does this), and prints user and system
CPU and minor page faults per frame, so host-side changes can be measured on a machine without
a GPU. Each measurement is the second of two videos in one process (a worker's steady state).

    python scripts/profile_worker_host.py --runs 3            # alternates default / kept memory
    python scripts/profile_worker_host.py --out reports/bench/worker_memory.json
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))  # the benchmark's video, weights and oracle
import bench_pipeline as bench


def _measure_once(frames: int, keep_memory: bool) -> dict[str, float]:
    import numpy as np
    import torch

    import voxrepro.pipeline.video as video_module
    from voxrepro.detect.s3fd import S3FDDetector
    from voxrepro.pipeline.process import prepare_process
    from voxrepro.syncnet.model import SyncNetV2

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        video = work / "talk720p.mp4"
        boxes = bench.write_video(video, frames)
        s3fd_path, syncnet_path = bench.random_weights(work)

        # Stubs: the forwards are the GPU's work; every CPU step around them stays.
        def no_faces(self: S3FDDetector, x: Any, sizes: list[Any]) -> list[Any]:
            return [np.zeros((0, 5)) for _ in sizes]

        S3FDDetector.detect_tensor = no_faces  # type: ignore[method-assign]
        S3FDDetector._to_network_input = lambda self, host: host  # type: ignore[method-assign]
        SyncNetV2.forward_lip = lambda self, x: torch.zeros(x.shape[0], 1024)  # type: ignore[method-assign]
        SyncNetV2.forward_aud = lambda self, x: torch.randn(x.shape[0], 1024)  # type: ignore[method-assign]
        settings = bench.PipelineSettings(
            detector="s3fd",
            syncnet_weights=syncnet_path,
            device="cpu",
            batch_size=128,
            decode_threads=1,
        )
        prepare_process(settings, 1, keep_memory=keep_memory)
        s3fd = S3FDDetector(s3fd_path, device="cpu", batch_size=128, threads=1)
        oracle = bench.OracleBoxesAfterS3FD(s3fd, boxes)
        video_module.get_detector = lambda _settings: oracle
        video_module.score_and_split = bench.speaking_after_syncnet(video_module.score_and_split)
        row: dict[str, float] = {}
        for run in range(2):  # the first video warms the process up
            before = resource.getrusage(resource.RUSAGE_SELF)
            started = time.perf_counter()
            result = video_module.process_video(video, work / f"out{run}", settings)
            wall = time.perf_counter() - started
            after = resource.getrusage(resource.RUSAGE_SELF)
            n = max(1, result.frames)
            row = {
                "user_ms_per_frame": round(1000 * (after.ru_utime - before.ru_utime) / n, 2),
                "system_ms_per_frame": round(1000 * (after.ru_stime - before.ru_stime) / n, 2),
                "minor_faults_per_frame": round((after.ru_minflt - before.ru_minflt) / n, 1),
                "wall_ms_per_frame": round(1000 * wall / n, 2),
                "segments": len(result.segments),
            }
    return row


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=750)
    parser.add_argument("--runs", type=int, default=3, help="alternated pairs")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--child", choices=["default", "keep"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_measure_once(args.frames, args.child == "keep")))
        return
    rows: list[dict[str, Any]] = []
    for run in range(args.runs):
        for mode in ("default", "keep"):
            # A fresh process each time: malloc settings cannot be undone in a process.
            done = subprocess.run(
                [sys.executable, __file__, "--child", mode, "--frames", str(args.frames)],
                capture_output=True,
                text=True,
                check=True,
            )
            row = {"run": run, "malloc": mode, **json.loads(done.stdout.splitlines()[-1])}
            rows.append(row)
            print(row, flush=True)
    if args.out:
        import os
        import platform

        record = {
            "what": __doc__.split("\n\n")[0] if __doc__ else "",
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
            "frames": args.frames,
            "rows": rows,
        }
        args.out.write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
