"""voxrepro: rebuild VoxCeleb2-style talking-face datasets and audit how close the rebuild is."""

from __future__ import annotations

import logging

__version__ = "0.1.0"

# The library logs to this logger and never prints; the CLI decides what reaches the terminal.
logger = logging.getLogger("voxrepro")
logger.addHandler(logging.NullHandler())

__all__ = ["__version__", "logger"]
