"""Command-line entry point. Each command lives in its own module and registers on ``app``.

``cli`` only parses and renders; every command body is one library call.
"""

from __future__ import annotations

import importlib
import sys

from rich.markup import escape

from voxrepro.cli.app import app, console
from voxrepro.errors import VoxreproError

#: Command modules, in the order ``--help`` lists them; each registers itself on ``app``.
COMMAND_MODULES = (
    "inspect",
    "download",
    "recrop",
    "pipeline",
    "compare",
    "weights",
    "demo",
    "info",
)
for _name in COMMAND_MODULES:
    importlib.import_module(f"voxrepro.cli.{_name}")


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
