"""``voxrepro version``: versions of the tool and of the libraries that change numbers."""

from __future__ import annotations

import importlib.metadata as md

from voxrepro import __version__
from voxrepro.cli.app import app, stdout_console
from voxrepro.cli.common import JsonOpt, print_json

_LIBS = ("torch", "numpy", "av", "opencv-python", "scenedetect", "yt-dlp", "yuface")


@app.command()
def version(json_out: JsonOpt = False) -> None:
    """Print the versions of voxrepro and of the libraries whose versions change results."""
    versions = {"voxrepro": __version__}
    for lib in _LIBS:
        try:
            versions[lib] = md.version(lib)
        except md.PackageNotFoundError:
            versions[lib] = None
    if json_out:
        print_json(versions)
        return
    for name, value in versions.items():
        stdout_console.print(f"{name:14s} {value or '-'}")
