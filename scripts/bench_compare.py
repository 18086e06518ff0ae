"""Benchmark ``voxrepro compare`` at VoxCeleb2-test size; write reports/bench/compare.json.

Builds an official set (default 36,237 segments over 4,910 videos, ~195 frames each, drifting
normalised boxes) and a generated set perturbed from it in known ways: boundaries shifted by up
to ±``--shift`` frames, boxes scaled about their centre by 0.9-1.15, ``--missing`` of the
segments dropped, ``--extra`` new segments added, and ``--unavailable`` of the videos marked
as failed downloads in a real state database. Then it times, on this machine:

1. ``in_memory``: matching + report building + writing html, md, json and csv from Segment
   objects (what ``voxrepro compare`` does after reading);
2. ``cli`` (unless ``--no-cli``): both sets written as Vox2 txt trees, then the whole
   ``voxrepro compare`` command in a subprocess (reading 72k files included).

Usage: .venv/bin/python scripts/bench_compare.py [--videos N --segments N] [--no-cli]
       .venv/bin/python scripts/bench_compare.py --example-out reports/example --videos 12 \
           --segments 80 --no-cli
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from voxrepro.atomic import write_json_atomic
from voxrepro.audit import compare_segments
from voxrepro.audit.loading import load_side, load_states
from voxrepro.audit.writers import DEFAULT_FORMATS, write_reports
from voxrepro.failures import FailureClass, FailureReason
from voxrepro.formats import write_vox2_tree
from voxrepro.segment import Segment, make_segment
from voxrepro.store import STATE_FILENAME, DownloadStore, MediaInfo

REPO = Path(__file__).resolve().parents[1]
_ALPHABET = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"))


def _video_ids(rng: np.random.Generator, count: int) -> list[str]:
    ids: set[str] = set()
    while len(ids) < count:
        ids.add("".join(rng.choice(_ALPHABET, 11)))
    return sorted(ids)


def _drifting_boxes(rng: np.random.Generator, n: int) -> np.ndarray:
    """Square-on-16:9 crop windows that drift slowly, normalised."""
    w = rng.uniform(0.2, 0.45)
    h = min(0.95, w * 16 / 9)
    x0, y0 = rng.uniform(0.05, 0.95 - w), rng.uniform(0.0, 0.98 - h)
    drift = np.cumsum(rng.normal(0, 0.0015, size=(n, 2)), axis=0)
    boxes = np.empty((n, 4))
    boxes[:, 0] = np.clip(x0 + drift[:, 0], 0, 1 - w)
    boxes[:, 1] = np.clip(y0 + drift[:, 1], 0, 1 - h)
    boxes[:, 2], boxes[:, 3] = w, h
    return np.round(boxes, 3)


def make_official(rng: np.random.Generator, videos: int, segments: int) -> list[Segment]:
    """``segments`` Vox2-like segments over ``videos`` videos (>= 1 each), ~195 frames long."""
    refs = _video_ids(rng, videos)
    per_video = np.ones(videos, dtype=np.int64)
    per_video += np.bincount(rng.integers(0, videos, segments - videos), minlength=videos)
    identities = [f"id{n:05d}" for n in rng.choice(np.arange(1, 99999), 118, replace=False)]
    out: list[Segment] = []
    for ref, count in zip(refs, per_video.tolist(), strict=True):
        identity = identities[int(rng.integers(0, len(identities)))]
        start = int(rng.integers(0, 500))
        for utt in range(1, count + 1):
            n = int(np.clip(rng.normal(195, 60), 76, 600))
            out.append(
                make_segment(
                    identity,
                    ref,
                    f"{utt:05d}",
                    np.arange(start, start + n),
                    _drifting_boxes(rng, n),
                    offset=int(rng.integers(-3, 4)),
                    fv_conf=round(float(rng.uniform(10, 20)), 3),
                    asd_conf=round(float(rng.uniform(2, 8)), 3),
                    dataset="vox2",
                )
            )
            start += n + int(rng.integers(5, 400))
    return out


def perturb(
    rng: np.random.Generator, official: list[Segment], shift: int, missing: float, extra: float
) -> list[Segment]:
    """The generated side: shifted boundaries, scaled boxes, dropped and added segments."""
    out: list[Segment] = []
    last_frame: dict[str, int] = {}
    for s in official:
        last_frame[s.reference] = max(last_frame.get(s.reference, 0), s.last_frame)
        if rng.random() < missing:
            continue
        a, b = (int(v) for v in rng.integers(-shift, shift + 1, 2))
        lo, hi = max(0, s.first_frame + a), s.last_frame + b
        frames = np.arange(lo, hi + 1)
        idx = np.clip(frames - s.first_frame, 0, s.num_frames - 1)  # hold edge boxes
        boxes = s.boxes[idx].copy()
        factor = rng.uniform(0.9, 1.15)
        centre = boxes[:, :2] + boxes[:, 2:] / 2
        boxes[:, 2:] *= factor
        boxes[:, :2] = centre - boxes[:, 2:] / 2
        offset = None if s.offset is None else s.offset + int(rng.integers(-1, 2))
        out.append(
            make_segment(
                "unknown",
                s.reference,
                s.utterance,
                frames,
                np.round(boxes, 3),
                offset=offset,
                fv_conf=s.fv_conf,
                asd_conf=s.asd_conf,
                dataset="vox2",
            )
        )
    refs = sorted(last_frame)
    for k in range(round(extra * len(official))):
        ref = refs[int(rng.integers(0, len(refs)))]
        start = last_frame[ref] + 50
        n = int(rng.integers(76, 300))
        last_frame[ref] = start + n
        out.append(
            make_segment(
                "unknown",
                ref,
                f"x{k:05d}",
                np.arange(start, start + n),
                _drifting_boxes(rng, n),
                offset=0,
                dataset="vox2",
            )
        )
    return out


def make_state_db(
    folder: Path,
    refs: list[str],
    generated: list[Segment],
    rng: np.random.Generator,
    fraction: float,
) -> Path:
    """A real download state DB: ``fraction`` of the videos failed (permanent), the rest done.

    A failed download yields nothing, so generated segments of failed videos are dropped.
    """
    failed = set(rng.choice(refs, size=max(1, int(fraction * len(refs))), replace=False).tolist())
    generated[:] = [s for s in generated if s.reference not in failed]
    db = folder / STATE_FILENAME
    with DownloadStore(db) as store:
        for ref in refs:
            store.start_attempt(ref)
            if ref in failed:
                store.mark_failed(
                    ref, FailureClass.PERMANENT, FailureReason.PRIVATE, "Private video"
                )
            else:
                store.mark_done(ref, folder / f"{ref}.mp4", MediaInfo(1280, 720, 25.0, None))
    return db


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--videos", type=int, default=4910)
    parser.add_argument("--segments", type=int, default=36237)
    parser.add_argument("--shift", type=int, default=6)
    parser.add_argument("--missing", type=float, default=0.05)
    parser.add_argument("--extra", type=float, default=0.03)
    parser.add_argument("--unavailable", type=float, default=0.02)
    parser.add_argument("--seed", type=int, default=2018)
    parser.add_argument("--no-cli", action="store_true", help="skip the txt-tree CLI run")
    parser.add_argument("--out", type=Path, default=REPO / "reports" / "bench" / "compare.json")
    parser.add_argument("--example-out", type=Path, help="write the example report here instead")
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    load_start = os.getloadavg()[0]  # the machine is shared: record how busy it was
    t0 = time.perf_counter()
    official = make_official(rng, args.videos, args.segments)
    generated = perturb(rng, official, args.shift, args.missing, args.extra)
    t_generate = time.perf_counter() - t0
    refs = sorted({s.reference for s in official})
    with tempfile.TemporaryDirectory(prefix="bench-compare-") as tmp_name:
        tmp = Path(tmp_name)
        db = make_state_db(tmp, refs, generated, rng, args.unavailable)
        states = load_states(db)
        report_dir = args.example_out or tmp / "report"
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        report = compare_segments(
            official,
            generated,
            states=states,
            inputs={
                "official": "synthetic official set",
                "generated": "synthetic perturbed set",
                "state": "synthetic download state",
            },
        )
        timings["match_and_summarise_s"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        for fmt in DEFAULT_FORMATS:
            ts = time.perf_counter()
            write_reports(report, report_dir, [fmt])
            timings[f"write_{fmt}_s"] = time.perf_counter() - ts
        timings["write_all_s"] = time.perf_counter() - t1
        timings["in_memory_total_s"] = time.perf_counter() - t0
        sizes = {p.name: p.stat().st_size for p in report_dir.iterdir() if p.is_file()}
        if args.example_out:
            for name in ("report.json", "segments.csv"):  # the example keeps html + md only
                (report_dir / name).unlink()
            _screenshot(report_dir / "report.html", report_dir / "report.png")
            print(json.dumps({"summary": report.summary, "sizes": sizes}, indent=1))
            return
        cli: dict[str, object] = {"skipped": True}
        if not args.no_cli:
            cli = _run_cli(tmp, official, generated, db)
    result = {
        "what": "voxrepro compare, official vs perturbed generated set (scripts/bench_compare.py)",
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average_1min_at_start_and_end": [load_start, os.getloadavg()[0]],
        },
        "parameters": vars(args) | {"out": str(args.out), "example_out": None},
        "official_segments": len(official),
        "generated_segments": len(generated),
        "videos": len(refs),
        "official_frames": int(sum(s.num_frames for s in official)),
        "generate_sets_s": round(t_generate, 3),
        "in_memory": {k: round(v, 3) for k, v in timings.items()},
        "report_bytes": sizes,
        "cli": cli,
        "summary": report.summary,
        "budget_s": 30.0,
    }
    write_json_atomic(args.out, result)
    print(json.dumps({"in_memory": result["in_memory"], "cli": cli}, indent=1))


def _screenshot(page_path: Path, png: Path) -> None:
    """Screenshot the top of the HTML report in headless Chromium (the example in the repo)."""
    from playwright.sync_api import sync_playwright

    args = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=args)
        page = browser.new_page(viewport={"width": 1400, "height": 1900})
        page.goto(page_path.resolve().as_uri())
        page.screenshot(path=str(png))
        browser.close()


def _run_cli(
    tmp: Path, official: list[Segment], generated: list[Segment], db: Path
) -> dict[str, object]:
    t0 = time.perf_counter()
    for _ in write_vox2_tree(official, tmp / "official" / "txt"):
        pass
    for _ in write_vox2_tree(generated, tmp / "generated" / "txt"):
        pass
    t_write = time.perf_counter() - t0
    read: dict[str, float] = {}
    for side in ("official", "generated"):  # in-process, to show where the command's time goes
        t0 = time.perf_counter()
        load_side(tmp / side / "txt", side, [])
        read[f"read_{side}_tree_s"] = round(time.perf_counter() - t0, 3)
    command = [
        sys.executable,
        "-m",
        "voxrepro",
        "compare",
        "--official",
        str(tmp / "official" / "txt"),
        "--generated",
        str(tmp / "generated" / "txt"),
        "--state",
        str(db),
        "--out",
        str(tmp / "cli-report"),
        "--json",
    ]
    t0 = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    summary = json.loads(done.stdout)["summary"] if done.returncode == 0 else None
    return {
        "write_txt_trees_s": round(t_write, 3),
        **read,
        "compare_command_s": round(wall, 3),
        "exit_code": done.returncode,
        "stderr_tail": done.stderr[-500:],
        "segment_recall": summary and summary["segment_recall"],
    }


if __name__ == "__main__":
    main()
