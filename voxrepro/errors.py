"""The exception hierarchy. Messages are one line and say what to do."""

from __future__ import annotations


class VoxreproError(Exception):
    """Base class: the CLI prints ``str(error)`` as one line, never a traceback."""


class InvalidInputError(VoxreproError, ValueError):
    """An untrusted value (id, path, argument) failed validation."""


class FormatError(VoxreproError):
    """A metafile could not be read at all (per-line issues are ``Problem`` records instead)."""


class DecodeError(VoxreproError):
    """A media file could not be opened or decoded."""


class DownloadError(VoxreproError):
    """A download failed; ``reason`` is a code from ``voxrepro.failures.FailureReason``."""

    def __init__(self, message: str, reason: str = "unknown", permanent: bool = False) -> None:
        super().__init__(message)
        self.reason = reason
        self.permanent = permanent


class ModelError(VoxreproError):
    """A model weights file is missing, unreadable or has the wrong keys or shapes."""
