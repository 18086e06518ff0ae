"""Builders of synthetic metafiles written by hand exactly as the docs show them.

They do not use the product writer, so round trips through the writer prove something. Other
test modules import the helpers (``from test_formats_factory import ...``).
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Sequence
from pathlib import Path

# The example of ../shared/docs/metafile-formats.md, byte for byte.
DOC_VOX2_EXAMPLE = (
    "Identity  : \tid00012\n"
    "Reference : \t_raOc3-IRsw\n"
    "Offset    : \t2\n"
    "FV Conf   : \t20.230\t(1)\n"
    "ASD Conf  : \t2.765\n"
    "\n"
    "FRAME \tX \tY \tW \tH \n"
    "000349 \t0.319 \t0.067 \t0.424 \t0.753 \n"
)


def vox_text(
    identity: str,
    reference: str,
    frames: Sequence[int],
    boxes: Sequence[Sequence[float]] | None = None,
    *,
    offset: str = "2",
    fv_conf: str = "20.230\t(1)",
    asd_conf: str = "2.765",
    pixels: bool = False,
) -> str:
    """One utterance txt in the published layout (VoxCeleb2, or VoxCeleb1 with ``pixels``)."""
    if boxes is None:
        boxes = [(0.319, 0.067, 0.424, 0.753)] * len(frames)
    lines = [
        f"Identity  : \t{identity}\n",
        f"Reference : \t{reference}\n",
        f"Offset    : \t{offset}\n",
        f"FV Conf   : \t{fv_conf}\n",
        f"ASD Conf  : \t{asd_conf}\n",
        "\n",
        "FRAME \tX \tY \tW \tH \n",
    ]
    for frame, box in zip(frames, boxes, strict=True):
        values = " \t".join(str(int(v)) if pixels else f"{v:.3f}" for v in box)
        lines.append(f"{frame:06d} \t{values} \n")
    return "".join(lines)


def write_files(root: Path, files: dict[str, str | bytes]) -> Path:
    """Write ``{relative path: text or bytes}`` under ``root``; return ``root``."""
    for rel, content in files.items():
        dest = root / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            dest.write_bytes(content)
        else:
            dest.write_text(content, newline="")
    return root


def zip_files(zip_path: Path, files: dict[str, str | bytes]) -> Path:
    """The same ``{relative path: content}`` as a zip archive (deflated, like the published)."""
    with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for rel, content in files.items():
            archive.writestr(rel, content)
    return zip_path


def small_vox2_tree() -> dict[str, str]:
    """Two identities, three videos, five utterances (all well-formed VoxCeleb2)."""
    return {
        "txt/id00012/_raOc3-IRsw/00001.txt": vox_text("id00012", "_raOc3-IRsw", range(349, 449)),
        "txt/id00012/_raOc3-IRsw/00002.txt": vox_text(
            "id00012", "_raOc3-IRsw", range(600, 700), offset="-1"
        ),
        "txt/id00012/21Uxsk56VDQ/00001.txt": vox_text(
            "id00012",
            "21Uxsk56VDQ",
            range(0, 120),
            [(0.1 + i / 1000, 0.2, 0.3, 0.533) for i in range(120)],
        ),
        "txt/id00017/_mjZ87sK6cA/00001.txt": vox_text(
            "id00017", "_mjZ87sK6cA", range(10, 85), fv_conf="16.140\t(1)", asd_conf="5.142"
        ),
        "txt/id00017/_mjZ87sK6cA/00002.txt": vox_text(
            "id00017", "_mjZ87sK6cA", range(100, 250), asd_conf="-0.500"
        ),
    }


def celebvhq_document() -> dict:
    """The two clips of the CelebV-HQ README's JSON example (attributes shortened)."""
    return {
        "meta_info": {"appearance_mapping": ["Blurry", "Male"], "action_mapping": ["blow"]},
        "clips": {
            "M2Ohb0FAaJU_1": {
                "ytb_id": "M2Ohb0FAaJU",
                "duration": {"start_sec": 81.62, "end_sec": 86.17},
                "bbox": {"top": 0.0, "bottom": 0.8815, "left": 0.1964, "right": 0.6922},
                "attributes": {"appearance": [0, 1], "action": [0], "emotion": {}},
                "version": "v0.1",
            },
            "_0tf2n3rlJU_0": {
                "ytb_id": "_0tf2n3rlJU",
                "duration": {"start_sec": 52.72, "end_sec": 56.1},
                "bbox": {"top": 0.0, "bottom": 0.8407, "left": 0.5271, "right": 1.0},
                "attributes": {"appearance": [1, 0], "action": [1], "emotion": {}},
                "version": "v0.1",
            },
        },
    }


def celebvhq_text(document: dict) -> str:
    """Pretty-printed like the README (one key per line, so clip lines are distinct)."""
    return json.dumps(document, indent=4) + "\n"


def test_vox_text_reproduces_the_documented_example() -> None:
    assert vox_text("id00012", "_raOc3-IRsw", [349]) == DOC_VOX2_EXAMPLE


def test_vox_text_pixels_matches_the_vox1_row_layout() -> None:
    text = vox_text("id10130", "7bsVPobprgw", [2316], [(223, 80, 130, 130)], pixels=True)
    assert text.endswith("002316 \t223 \t80 \t130 \t130 \n")
