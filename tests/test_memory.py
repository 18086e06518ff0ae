"""voxrepro.memory: freed frame memory stays mapped, so new frames do not fault pages in again."""

from __future__ import annotations

import json
import platform
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
    reason="mallopt tuning is glibc only",
)

FRAMES = 200
# Frames are held in groups, as a shot or a detector batch holds them, then freed together.
# Allocated one at a time, glibc's dynamic mmap threshold already keeps a 720p frame on the heap
# and one freed frame is below the (dynamic) trim threshold: 0 faults with or without the
# setting, so that pattern could not fail. A freed group of 8 is trimmed off the heap and faulted
# in again by the next group (117,325 faults for 200 frames, about 590 of a frame's 675 pages,
# measured on the dev box's glibc 2.36).
# The measured rounds run on a thread of their own, like the pipeline's decoding thread, after a
# warm-up round that grows the heap once.
_SCRIPT = """
import json, resource, sys, threading
import numpy as np
accepted = None
if sys.argv[1] == "keep":
    from voxrepro.memory import keep_freed_memory
    accepted = keep_freed_memory()
HOLD = 8
def rounds(frames):
    for _ in range(frames // HOLD):
        held = [np.full((720, 1280, 3), 1, np.uint8) for _ in range(HOLD)]  # pages touched
        del held
result = {}
def work():
    rounds(40)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    rounds(int(sys.argv[2]))
    result["faults"] = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
thread = threading.Thread(target=work)
thread.start()
thread.join()
print(json.dumps({"accepted": accepted, "faults": result["faults"]}))
"""


def _measure(mode: str) -> dict[str, int | bool | None]:
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, mode, str(FRAMES)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(done.stdout.splitlines()[-1])


def test_keep_freed_memory_stops_the_page_faults_of_new_frames() -> None:
    default = _measure("default")
    kept = _measure("keep")
    assert kept["accepted"] is True  # every mallopt setting taken by this glibc
    default_faults, kept_faults = int(default["faults"] or 0), int(kept["faults"] or 0)
    # Without it: most of each frame's 675 pages fault again (a floor of 100 a frame).
    assert default_faults > FRAMES * 100, default
    # With it: the warm heap is reused (0 measured); a tenth leaves room for noise.
    assert kept_faults * 10 < default_faults, (kept, default)
