"""The careful, line-by-line path of the VoxCeleb-style txt parser.

Taken only when the fast path (``voxtxt.parse_txt_fast``) sees anything but the exact published
layout. It tolerates whitespace variants (CRLF, missing trailing spaces) silently and reports
everything else as a ``Problem`` naming the exact line.
"""

from __future__ import annotations

import numpy as np

from voxrepro.formats.voxtxt_layout import (
    COLUMN_LINE,
    COLUMN_NAMES,
    HEADER_LABELS,
    LABEL_KEYS,
    MAX_ROW_PROBLEMS,
    ParsedTxt,
)
from voxrepro.segment import Problem


def parse_txt_careful(data: bytes, display: str, problems: list[Problem]) -> ParsedTxt | None:
    """Parse any variant line by line, appending a Problem for everything wrong.

    Tolerates CRLF, missing trailing spaces and other whitespace variants silently. Returns None
    (after reporting why) when no trustworthy segment can be built: no rows, a malformed row, or
    a truncated file.
    """
    text = data.decode("utf-8", errors="replace").removeprefix("\ufeff")
    lines = text.split("\n")
    ends_with_newline = text.endswith("\n")
    if ends_with_newline:
        lines.pop()
    header_end, row_start = _find_rows(lines, display, problems)
    header = _parse_header(lines[:header_end], display, problems)
    frames: list[int] = []
    boxes: list[list[float]] = []
    row_lines: list[int] = []
    decimal = False
    fatal = 0
    last = len(lines) - 1
    # Trailing blank lines are harmless; blank lines among the rows are reported.
    while last >= row_start and not lines[last].strip():
        last -= 1
    for index in range(row_start, last + 1):
        lineno = index + 1
        tokens = lines[index].split()
        message = None
        if not tokens:
            problems.append(Problem(display, lineno, "blank line among the frame rows"))
            continue
        if len(tokens) != 5:
            if index == last and not ends_with_newline:
                message = f"truncated file: last row has {len(tokens)} of 5 fields"
            else:
                message = f"expected 5 fields (FRAME X Y W H), found {len(tokens)}"
        else:
            try:
                frame = int(tokens[0])
            except ValueError:
                message = f"non-numeric FRAME value {tokens[0]!r}"
            else:
                row, message = _parse_box(tokens[1:])
        if message is not None:
            fatal += 1
            if fatal <= MAX_ROW_PROBLEMS:
                problems.append(Problem(display, lineno, message))
            continue
        decimal = decimal or any("." in token for token in tokens[1:])
        frames.append(frame)
        boxes.append(row)
        row_lines.append(lineno)
    if fatal > MAX_ROW_PROBLEMS:
        problems.append(Problem(display, None, f"{fatal - MAX_ROW_PROBLEMS} more malformed rows"))
    if not fatal and not ends_with_newline and row_lines:
        problems.append(
            Problem(display, row_lines[-1], "truncated file: no newline after the last row")
        )
        fatal += 1
    if not fatal and not frames:
        problems.append(Problem(display, row_start + 1, "no frame rows"))
        fatal += 1
    if fatal:
        return None
    return ParsedTxt(
        header=header,
        frames=np.asarray(frames, dtype=np.int64),
        boxes=np.asarray(boxes, dtype=np.float64).reshape(-1, 4),
        row_lines=np.asarray(row_lines, dtype=np.int64),
        decimal=decimal,
    )


def _parse_box(tokens: list[str]) -> tuple[list[float], str | None]:
    row: list[float] = []
    for name, token in zip(COLUMN_NAMES[1:], tokens, strict=True):
        try:
            value = float(token)
        except ValueError:
            return row, f"non-numeric {name} value {token!r}"
        if not np.isfinite(value):
            return row, f"non-finite {name} value {token!r}"
        row.append(value)
    return row, None


def _find_rows(lines: list[str], display: str, problems: list[Problem]) -> tuple[int, int]:
    """(end of the header, first frame row) as 0-based line indices.

    The header ends at the column line; without one (reported), at the first row-like line.
    """
    for index, line in enumerate(lines):
        tokens = line.split()
        if tokens[:1] == ["FRAME"]:
            return index, index + 1
        if tokens and tokens[0].isdigit() and ":" not in line:
            problems.append(Problem(display, index + 1, f"missing column line {COLUMN_LINE!r}"))
            return index, index
    problems.append(Problem(display, None, f"missing column line {COLUMN_LINE!r}"))
    return len(lines), len(lines)


def _parse_header(
    lines: list[str], display: str, problems: list[Problem]
) -> dict[str, tuple[str, int]]:
    header: dict[str, tuple[str, int]] = {}
    for index, line in enumerate(lines):
        if not line.strip():
            continue
        label, colon, value = line.partition(":")
        key = LABEL_KEYS.get(label.strip().casefold())
        if not colon or key is None:
            problems.append(
                Problem(display, index + 1, f"unrecognised header line {line.rstrip()!r}")
            )
        elif key in header:
            problems.append(Problem(display, index + 1, f"repeated header line {key!r}"))
        else:
            header[key] = (value.strip(" \t\r"), index + 1)
    for position, label in enumerate(HEADER_LABELS, start=1):
        if label not in header:
            problems.append(Problem(display, position, f"missing header line '{label} :'"))
    return header
