"""Classify download error messages into a fixed failure taxonomy (pure functions, no I/O).

A failure is *permanent* when asking again cannot help (the video was removed, is private,
blocked on copyright grounds, geo-blocked from here, members-only, age-gated, or the server
answered 404/410): reruns skip it unless ``--retry-failed``. It is *transient* when it may
succeed later (HTTP 429 and YouTube's rate limits, the "not a bot" check, timeouts, connection
errors, 5xx): it is retried with backoff within a run and again on the next run.

The rules are an ordered table of (reason, regex). Order matters: rate-limit wording is tested
first because YouTube wraps its session rate limit in "Video unavailable. This content isn't
available, try again later": such a message must never be counted as a deleted video. A message
no rule names is ``unknown`` and transient: a cause we cannot name is never recorded as lost.
Wording follows what yt-dlp 2026.10 emits (``extractor/youtube/_video.py``,
``extractor/common.py``) and what users report in its issue tracker.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class FailureClass(StrEnum):
    """Whether a failed download is worth asking for again."""

    PERMANENT = "permanent"
    TRANSIENT = "transient"


class FailureReason(StrEnum):
    """Reason codes stored in the download state and counted in summaries."""

    # permanent
    REMOVED = "removed"  # removed by the uploader, account terminated, no longer available
    POLICY_REMOVED = "policy_removed"  # removed for violating YouTube's policies / ToS
    PRIVATE = "private"
    COPYRIGHT = "copyright"
    GEO_BLOCKED = "geo_blocked"
    MEMBERS_ONLY = "members_only"
    AGE_RESTRICTED = "age_restricted"
    PAYMENT_REQUIRED = "payment_required"
    UNAVAILABLE = "unavailable"  # a bare "Video unavailable" with no rate-limit wording
    NOT_FOUND = "http_404"
    GONE = "http_410"
    HTTP_CLIENT_ERROR = "http_4xx"  # other 4xx (bad request, unauthorized, ...)
    FORMAT_UNAVAILABLE = "format_unavailable"
    UNSUPPORTED_URL = "unsupported_url"
    # transient
    RATE_LIMITED = "rate_limited"
    BOT_CHECK = "bot_check"
    UNAVAILABLE_UNCONFIRMED = "unavailable_unconfirmed"  # "This content isn't available."
    FORBIDDEN = "http_403"  # YouTube's media servers answer 403 for expired/unsigned URLs
    SERVER_ERROR = "http_5xx"
    TIMEOUT = "timeout"
    CONNECTION = "connection"
    INCOMPLETE = "incomplete"  # truncated transfer, empty file
    UPCOMING = "upcoming"  # live event or premiere not started yet
    INVALID_MEDIA = "invalid_media"  # downloaded, but the file does not probe as a video
    UNKNOWN = "unknown"


PERMANENT_REASONS: frozenset[FailureReason] = frozenset(
    {
        FailureReason.REMOVED,
        FailureReason.POLICY_REMOVED,
        FailureReason.PRIVATE,
        FailureReason.COPYRIGHT,
        FailureReason.GEO_BLOCKED,
        FailureReason.MEMBERS_ONLY,
        FailureReason.AGE_RESTRICTED,
        FailureReason.PAYMENT_REQUIRED,
        FailureReason.UNAVAILABLE,
        FailureReason.NOT_FOUND,
        FailureReason.GONE,
        FailureReason.HTTP_CLIENT_ERROR,
        FailureReason.FORMAT_UNAVAILABLE,
        FailureReason.UNSUPPORTED_URL,
    }
)


@dataclass(frozen=True)
class Failure:
    """The classification of one error message."""

    failure_class: FailureClass
    reason: FailureReason

    @property
    def permanent(self) -> bool:
        return self.failure_class is FailureClass.PERMANENT


def failure_for(reason: FailureReason) -> Failure:
    """The Failure for a reason code (its class follows from the code)."""
    cls = FailureClass.PERMANENT if reason in PERMANENT_REASONS else FailureClass.TRANSIENT
    return Failure(cls, reason)


# YouTube and yt-dlp use both ' and ’ in "isn't" / "you're".
_APOS = "['’]"
_R = FailureReason
# Ordered: the first matching rule wins. Patterns are searched case-insensitively.
_RULES: tuple[tuple[FailureReason, str], ...] = (
    # Rate limits first, whatever they are wrapped in ("Video unavailable. ... try again later").
    (_R.RATE_LIMITED, r"\bHTTP Error 429\b|too many requests|rate[- ]?limit"),
    (_R.RATE_LIMITED, r"try again later|\btemporarily\b"),
    (_R.BOT_CHECK, rf"confirm you{_APOS}?re not a bot|captcha"),
    # Permanent causes named by YouTube. "Private video. Sign in if you've been granted access"
    # and "Sign in to confirm your age" contain "sign in" but are not the bot check.
    (_R.PRIVATE, r"\bprivate video\b|this video is private|video has been made private"),
    (_R.AGE_RESTRICTED, r"confirm your age|age[- ]restricted|inappropriate for some users"),
    (_R.MEMBERS_ONLY, r"members[- ]only|available to this channel's members"),
    (_R.PAYMENT_REQUIRED, r"requires payment|premium members|only available to .*premium"),
    (_R.GEO_BLOCKED, r"in your country|from your location|geo[- ]?restrict|not available in your"),
    (_R.COPYRIGHT, r"copyright"),
    (
        _R.POLICY_REMOVED,
        rf"violating YouTube{_APOS}s (?:policy|Terms|Community)|Terms of Service|community "
        r"guidelines|policy on",
    ),
    (
        _R.REMOVED,
        r"removed by the (?:uploader|user)|account associated with this video has been "
        r"(?:terminated|closed)|video (?:has been|was) (?:removed|deleted)|no longer available",
    ),
    (_R.UPCOMING, r"live event will begin|premieres in|this live event|is not live|is upcoming"),
    # HTTP status codes as yt-dlp words them ("HTTP Error 404: Not Found").
    (_R.NOT_FOUND, r"\bHTTP Error 404\b"),
    (_R.GONE, r"\bHTTP Error 410\b"),
    (_R.FORBIDDEN, r"\bHTTP Error 403\b"),
    (_R.TIMEOUT, r"\bHTTP Error 408\b"),
    (_R.SERVER_ERROR, r"\bHTTP Error 5\d\d\b"),
    (_R.HTTP_CLIENT_ERROR, r"\bHTTP Error 4\d\d\b"),
    # Transport-level failures.
    (_R.TIMEOUT, r"timed out|timeout"),
    (
        _R.CONNECTION,
        r"connection (?:refused|reset|aborted)|remote end closed|name or service not known|"
        r"temporary failure in name resolution|network is unreachable|no route to host|"
        r"nodename nor servname|getaddrinfo failed|broken pipe|\bssl\b|eof occurred|"
        r"transporterror|urlopen error|unable to connect",
    ),
    (
        _R.INCOMPLETE,
        r"incompleteread|bytes read, \d+ more expected|content too short|downloaded file is "
        r"empty|did not get any data blocks|unable to download video data",
    ),
    (_R.FORMAT_UNAVAILABLE, r"requested format is not available|no video formats found"),
    (_R.UNSUPPORTED_URL, r"unsupported url|incomplete youtube id|invalid url"),
    # "This content isn't available." alone is also what YouTube shows a throttled session.
    (_R.UNAVAILABLE_UNCONFIRMED, rf"this content isn{_APOS}?t available"),
    (_R.UNAVAILABLE, r"video unavailable|this video is (?:unavailable|not available)"),
)
_COMPILED = tuple((reason, re.compile(pattern, re.IGNORECASE)) for reason, pattern in _RULES)


def classify_failure(message: str) -> Failure:
    """Classify an error message (as yt-dlp or the network stack words it).

    Args:
        message: the error text, raw or already passed through ``normalise_message``.

    Returns:
        The Failure (class and reason). Unmatched text is ``unknown`` and transient.
    """
    for reason, pattern in _COMPILED:
        if pattern.search(message):
            return failure_for(reason)
    return failure_for(FailureReason.UNKNOWN)


_ANSI_RE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_ERROR_PREFIX_RE = re.compile(r"^\s*(?:ERROR|WARNING):\s*")
_EXTRACTOR_PREFIX_RE = re.compile(r"^\[[\w:.-]+\]\s*")
_SPACE_RE = re.compile(r"\s+")
# yt-dlp repeats the cause ("HTTP Error 404: Not Found (caused by <HTTPError 404: ...>)").
_CAUSED_BY_RE = re.compile(r"\s*\(caused by [^\n]*\)\s*$")
# yt-dlp appends this to unexpected errors; it says nothing about the cause.
_BUG_REPORT_RE = re.compile(r";?\s*please report this issue on\b.*$", re.IGNORECASE | re.DOTALL)
VIDEO_ID_PLACEHOLDER = "<id>"


def normalise_message(message: str, video_id: str | None = None, max_length: int = 300) -> str:
    """One-line message without the video id, so that identical causes count together.

    Removes ANSI colours, the ``ERROR:`` prefix, the ``[extractor] <id>:`` prefix, every other
    occurrence of the id (replaced by ``<id>``) and yt-dlp's trailing ``(caused by ...)`` repeat,
    joins lines and trims to ``max_length``. Classify the raw message, not this one.
    """
    text = _ANSI_RE.sub("", message)
    text = _BUG_REPORT_RE.sub("", text)
    text = _ERROR_PREFIX_RE.sub("", text)
    text = _EXTRACTOR_PREFIX_RE.sub("", text)
    if video_id:
        text = re.sub(rf"^{re.escape(video_id)}:\s*", "", text)
        text = text.replace(video_id, VIDEO_ID_PLACEHOLDER)
    text = _SPACE_RE.sub(" ", text).strip()
    text = _CAUSED_BY_RE.sub("", text)
    if len(text) > max_length:
        text = text[: max_length - 1].rstrip() + "…"
    return text
