"""Command-line entry point. Each command lives in its own module and registers on ``app``.

``cli`` only parses and renders; every command body is one library call.
"""

from __future__ import annotations

import sys

from rich.markup import escape

from voxrepro.cli.app import app, console
from voxrepro.errors import VoxreproError

# Command modules register themselves on import (one line per command module).
from voxrepro.cli import info as _info  # noqa: E402,F401
from voxrepro.cli import pipeline as _pipeline  # noqa: E402,F401
from voxrepro.cli import recrop as _recrop  # noqa: E402,F401
from voxrepro.cli import compare as _compare  # noqa: E402,F401
from voxrepro.cli import inspect as _inspect  # noqa: E402,F401
from voxrepro.cli import download as _download  # noqa: E402,F401
from voxrepro.cli import weights as _weights  # noqa: E402,F401


def main() -> None:
    """Console-script entry: any VoxreproError becomes one line on stderr and exit status 2."""
    try:
        app()
    except VoxreproError as error:
        console.print(f"[bold red]error:[/] {escape(str(error))}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        console.print("[bold red]interrupted[/]")
        sys.exit(130)


__all__ = ["app", "main"]
