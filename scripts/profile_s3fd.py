"""Where S3FD's time goes, phase by phase (resize, upload, forward, Detect step, final NMS).

python scripts/profile_s3fd.py --device cuda --batch-size 128 --fp16
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from voxrepro.detect.s3fd import S3FDDetector
from voxrepro.detect.s3fd_box import decode_boxes, detect_step, face_scores, postprocess_detections
from voxrepro.detect.s3fd_net import S3FDNet


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--batches", type=int, default=6)
    parser.add_argument("--fp16", action="store_true")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--resize", default="cv2")
    args = parser.parse_args()
    torch.manual_seed(0)
    detector = S3FDDetector(
        net=S3FDNet(),
        device=args.device,
        batch_size=args.batch_size,
        fp16=args.fp16,
        threads=args.threads,
        resize=args.resize,
    )
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 255, (720, 1280, 3), dtype=np.uint8) for _ in range(args.batch_size)]
    sync = torch.cuda.synchronize if detector.device.type == "cuda" else (lambda: None)
    phases: dict[str, float] = {}

    def clock(name: str, started: float) -> float:
        sync()
        now = time.perf_counter()
        phases[name] = phases.get(name, 0.0) + now - started
        return now

    for batch in range(args.batches + 1):
        if batch == 1:
            phases.clear()  # the first batch is warm-up
        t = time.perf_counter()
        x = detector.preprocess(frames)
        t = clock("preprocess (resize + upload)", t)
        with (
            torch.inference_mode(),
            torch.autocast(
                device_type=detector.device.type, dtype=torch.float16, enabled=args.fp16
            ),
        ):
            loc, conf, sizes = detector.net(x)
        t = clock("forward", t)
        with torch.inference_mode():
            priors = detector._priors_for(int(x.shape[2]), int(x.shape[3]), sizes)
            boxes = decode_boxes(loc.float(), priors)
            scores = face_scores(conf.float())
            kept_scores, kept_boxes = detect_step(
                boxes, scores, detector.params, stop_at_or_below=detector.params.conf_th
            )
        t = clock("decode + Detect step", t)
        postprocess_detections(kept_scores, kept_boxes, [f.shape[:2] for f in frames])
        clock("final filter + NMS", t)
    n = args.batches * args.batch_size
    total = sum(phases.values())
    for name, seconds in phases.items():
        print(f"{name:30s} {1000 * seconds / n:8.3f} ms/frame  {100 * seconds / total:5.1f} %")
    print(f"{'total':30s} {1000 * total / n:8.3f} ms/frame  -> {n / total:,.0f} frames/s")
    # The real call, with the next chunk's resize overlapping this chunk's GPU work.
    many = frames * args.batches
    detector.detect_batch(many[: 2 * args.batch_size])
    sync()
    started = time.perf_counter()
    detector.detect_batch(many)
    sync()
    seconds = time.perf_counter() - started
    print(
        f"{'detect_batch (overlapped)':30s} {1000 * seconds / len(many):8.3f} ms/frame  "
        f"-> {len(many) / seconds:,.0f} frames/s"
    )


if __name__ == "__main__":
    main()
