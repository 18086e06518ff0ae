"""Benchmark: parse a generated tree of VoxCeleb2 txt files with one process.

Generates ``--files`` utterance files (default 100,000) with realistic lengths (100-500 rows,
mean about 195 = 7.8 s at 25 fps) in a temporary folder laid out like ``vox2_dev_txt``, then
times, in the same run and on the same files:

- ``io_only``: walking the tree and reading every file (no parsing), the floor for any parser;
- ``voxrepro``: ``voxrepro.formats.read_vox2`` (fast path + careful fallback + checks);
- ``naive``: a per-line ``str.split`` + ``float`` parser over the same file stream.

Writes ``reports/bench/parse.json`` (machine, counts, seconds, files/s, rows/s, speed-up).
Usage: ``.venv/bin/python scripts/bench_parse.py [--files N] [--out PATH]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from voxrepro.atomic import write_json_atomic
from voxrepro.formats import format_vox2, read_vox2
from voxrepro.formats.source import iter_source_files
from voxrepro.segment import make_segment

REPO = Path(__file__).resolve().parents[1]
MIN_ROWS, MAX_ROWS, MEAN_ROWS = 100, 500, 195
TARGET_FILES_PER_S = 5000
_ID_CHARS = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"))


def _row_counts(rng: np.random.Generator, n: int) -> np.ndarray:
    """100-500 rows, right-skewed like speech turns; exponential tail tuned to mean ~195."""
    rows = MIN_ROWS + rng.exponential(MEAN_ROWS - MIN_ROWS + 6, size=n)
    return np.clip(rows, MIN_ROWS, MAX_ROWS).astype(np.int64)


def generate_tree(root: Path, n_files: int, seed: int = 0) -> dict[str, float]:
    """Write ``n_files`` Vox2 txt files under ``root`` (~7.5 utterances per video, like dev)."""
    rng = np.random.default_rng(seed)
    counts = _row_counts(rng, n_files)
    written = 0
    identity_index = 0
    while written < n_files:
        identity = f"id{identity_index:05d}"
        identity_index += 1
        for _ in range(int(rng.integers(10, 40))):  # videos per identity
            reference = "".join(rng.choice(_ID_CHARS, 11))
            for utt in range(1, int(rng.integers(2, 14)) + 1):
                if written >= n_files:
                    break
                rows = int(counts[written])
                start = int(rng.integers(0, 20000))
                x, y = rng.uniform(0.05, 0.6, 2)
                size = rng.uniform(0.2, 0.45)
                jitter = rng.normal(0, 0.004, (rows, 4))
                boxes = np.round(np.array([x, y, size, size * 16 / 9]) + jitter, 3)
                segment = make_segment(
                    identity,
                    reference,
                    f"{utt:05d}",
                    np.arange(start, start + rows),
                    boxes,
                    offset=int(rng.integers(-3, 4)),
                    fv_conf=float(rng.uniform(10, 25)),
                    asd_conf=float(rng.uniform(1, 10)),
                )
                folder = root / "txt" / identity / reference
                folder.mkdir(parents=True, exist_ok=True)
                (folder / f"{utt:05d}.txt").write_text(format_vox2(segment), newline="")
                written += 1
    return {"identities": identity_index, "mean_rows": float(counts.mean())}


def naive_parse(data: bytes) -> tuple[str, str, int, np.ndarray, np.ndarray]:
    """The baseline: decode, split lines, ``str.split`` and ``float`` per row."""
    lines = data.decode("utf-8").splitlines()
    identity = lines[0].split()[-1]
    reference = lines[1].split()[-1]
    offset = int(lines[2].split()[-1])
    frames, boxes = [], []
    for line in lines[7:]:
        parts = line.split()
        frames.append(int(parts[0]))
        boxes.append([float(v) for v in parts[1:5]])
    return identity, reference, offset, np.array(frames), np.array(boxes)


def _timed(run: Callable[[], tuple[int, int]]) -> dict[str, float]:
    """Wall-clock and CPU time of ``run``: on a shared machine the CPU time is what one core
    spends, the wall clock also counts time the process waited for a core."""
    start, cpu_start = time.perf_counter(), time.process_time()
    files, rows = run()
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start
    return {
        "files": files,
        "rows": rows,
        "seconds": round(seconds, 3),
        "cpu_seconds": round(cpu_seconds, 3),
        "files_per_s": round(files / seconds, 1),
        "files_per_cpu_s": round(files / cpu_seconds, 1),
        "rows_per_s": round(rows / seconds, 1),
        "rows_per_cpu_s": round(rows / cpu_seconds, 1),
    }


def run_benchmark(root: Path) -> dict[str, dict[str, float]]:
    def io_only() -> tuple[int, int]:
        files = total = 0
        for source in iter_source_files(root):
            files += 1
            total += len(source.data)
        return files, 0

    def voxrepro() -> tuple[int, int]:
        problems: list = []
        files = rows = 0
        for segment in read_vox2(root, problems):
            files += 1
            rows += segment.num_frames
        if problems:
            raise SystemExit(f"benchmark tree has problems, e.g. {problems[0]}")
        return files, rows

    def naive() -> tuple[int, int]:
        files = rows = 0
        for source in iter_source_files(root):
            rows += len(naive_parse(source.data)[3])
            files += 1
        return files, rows

    io_only()  # warm the page cache and the directory entries for all three
    return {"io_only": _timed(io_only), "voxrepro": _timed(voxrepro), "naive": _timed(naive)}


def machine_info() -> dict[str, object]:
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "platform": platform.platform(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=100_000, help="files to generate")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=REPO / "reports" / "bench" / "parse.json")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="voxrepro-bench-parse-"))
    try:
        start = time.perf_counter()
        tree = generate_tree(workdir, args.files, args.seed)
        generate_seconds = time.perf_counter() - start
        results = run_benchmark(workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    fast, naive = results["voxrepro"], results["naive"]
    report = {
        "benchmark": "parse VoxCeleb2 txt tree, one process, warm page cache",
        "note": "2 shared cores: cpu_seconds is one core's work; seconds (wall) includes waits",
        "machine": machine_info(),
        "n_files": args.files,
        "identities": tree["identities"],
        "mean_rows_per_file": round(tree["mean_rows"], 1),
        "generate_seconds": round(generate_seconds, 1),
        "results": results,
        "files_per_s": fast["files_per_s"],
        "rows_per_s": fast["rows_per_s"],
        "files_per_cpu_s": fast["files_per_cpu_s"],
        "rows_per_cpu_s": fast["rows_per_cpu_s"],
        "speedup_vs_naive": round(naive["seconds"] / fast["seconds"], 2),
        "cpu_speedup_vs_naive": round(naive["cpu_seconds"] / fast["cpu_seconds"], 2),
        "target_files_per_s": TARGET_FILES_PER_S,
        "meets_target_wall": fast["files_per_s"] >= TARGET_FILES_PER_S,
        "meets_target_one_core": fast["files_per_cpu_s"] >= TARGET_FILES_PER_S,
    }
    write_json_atomic(args.out, report)
    for name, result in results.items():
        print(
            f"{name:9s} {result['files']:>8,} files {result['seconds']:>8.2f} s wall "
            f"{result['cpu_seconds']:>8.2f} s cpu {result['files_per_s']:>9,.0f} files/s "
            f"{result['files_per_cpu_s']:>9,.0f} files/cpu-s {result['rows_per_cpu_s']:>12,.0f} "
            "rows/cpu-s"
        )
    print(
        f"speed-up vs naive: {report['speedup_vs_naive']}x wall, "
        f"{report['cpu_speedup_vs_naive']}x cpu; wrote {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
