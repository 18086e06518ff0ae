"""The Typer application object and the one-line error policy shared by every command."""

from __future__ import annotations

import logging

import typer
from rich.console import Console
from rich.logging import RichHandler

app = typer.Typer(
    name="voxrepro",
    help="Rebuild VoxCeleb2-style talking-face datasets and audit how close the rebuild is.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

#: Human output goes to stderr so that ``--json`` output on stdout stays machine-readable.
console = Console(stderr=True)
stdout_console = Console()


@app.callback()
def _configure(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log debug messages."),
) -> None:
    """Logging is set up once here; the library only logs to the 'voxrepro' logger."""
    level = logging.DEBUG if verbose else logging.WARNING
    handler = RichHandler(console=console, show_time=False, show_path=False, markup=False)
    logging.basicConfig(level=level, handlers=[handler], format="%(message)s", force=True)
    # Keep chatty third-party loggers quiet unless asked.
    for name in ("libav", "yt_dlp", "pyscenedetect", "matplotlib", "PIL"):
        logging.getLogger(name).setLevel(logging.DEBUG if verbose else logging.ERROR)
