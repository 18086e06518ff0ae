"""Which official videos could be rebuilt at all, from the download state database.

A video whose download failed (or never happened) cannot yield segments, so its official
segments are counted as *unavailable*, apart from segments the pipeline *missed*. Rule:

* no state database given: every video is available;
* a video with generated segments is available (the segments prove it was downloaded);
* otherwise it is available only when its download state is ``done``; ``failed`` keeps the
  store's failure class and reason, ``pending`` and videos absent from the database are
  unavailable with reason ``pending`` / ``not_in_state``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from voxrepro.store import VideoStatus

#: Download status values written by voxrepro.store (one definition, imported).
STATUS_DONE = VideoStatus.DONE.value
STATUS_FAILED = VideoStatus.FAILED.value
STATUS_PENDING = VideoStatus.PENDING.value
#: Status used here for an official video the state database does not mention.
STATUS_ABSENT = "absent"
#: Status used when no state database was given (availability assumed).
STATUS_UNKNOWN = "unknown"

REASON_NOT_IN_STATE = "not_in_state"
REASON_PENDING = "pending"


@dataclass(frozen=True, slots=True)
class Availability:
    """Whether one source video was available to the rebuild, and if not, why."""

    reference: str
    available: bool
    status: str
    failure_class: str | None = None
    reason: str | None = None
    message: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "status": self.status,
            "failure_class": self.failure_class,
            "reason": self.reason,
            "message": self.message,
        }


def _text(value: object) -> str | None:
    """Enum members (the store's StrEnums) and other values as plain strings."""
    if value is None:
        return None
    return str(value.value) if isinstance(value, enum.Enum) else str(value)


def classify_availability(
    references: Iterable[str],
    states: Mapping[str, Any] | None,
    generated_references: set[str],
) -> dict[str, Availability]:
    """Availability of every official reference.

    Args:
        references: official video ids.
        states: ``voxrepro.store.read_video_states`` output (video id -> VideoState with
            ``status``, ``failure_class``, ``reason``, ``message``), or None when unknown.
        generated_references: video ids that have at least one generated segment.
    """
    result: dict[str, Availability] = {}
    for ref in references:
        if states is None:
            result[ref] = Availability(ref, True, STATUS_UNKNOWN)
            continue
        state = states.get(ref)
        if state is None:
            status, failure_class, reason, message = STATUS_ABSENT, None, REASON_NOT_IN_STATE, None
        else:
            status = _text(getattr(state, "status", STATUS_ABSENT)) or STATUS_ABSENT
            failure_class = _text(getattr(state, "failure_class", None))
            reason = _text(getattr(state, "reason", None))
            message = _text(getattr(state, "message", None))
            if status == STATUS_PENDING and reason is None:
                reason = REASON_PENDING
        available = ref in generated_references or status == STATUS_DONE
        if available:
            failure_class = reason = message = None
        result[ref] = Availability(ref, available, status, failure_class, reason, message)
    return result
