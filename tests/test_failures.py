"""Table-driven tests of the failure taxonomy over realistic yt-dlp error strings.

The strings follow what yt-dlp 2026.10 raises (``ERROR: [extractor] <id>: <reason>``), the
wording YouTube sends (quoted in yt-dlp issues), and what the loopback tests produce.
"""

from __future__ import annotations

import pytest

from voxrepro.failures import (
    PERMANENT_REASONS,
    FailureClass,
    FailureReason,
    classify_failure,
    failure_for,
    normalise_message,
)

R = FailureReason
P = FailureClass.PERMANENT
T = FailureClass.TRANSIENT

LOGIN_HINT = (
    "Use --cookies-from-browser or --cookies for the authentication. See  "
    "https://github.com/yt-dlp/yt-dlp/wiki/FAQ#how-do-i-pass-cookies-to-yt-dlp  for how to "
    "manually pass cookies. Also see  https://github.com/yt-dlp/yt-dlp/wiki/Extractors#exporting"
    "-youtube-cookies  for tips on effectively exporting YouTube cookies"
)
RATE_LIMIT_TAIL = (
    "The current session has been rate-limited by YouTube for up to an hour. It is recommended "
    "to use `-t sleep` to add a delay between video requests to avoid exceeding the rate limit. "
    "For more information, refer to  https://github.com/yt-dlp/yt-dlp/wiki/Extractors#this-"
    "content-isnt-available-try-again-later"
)

CASES: list[tuple[str, FailureReason, FailureClass]] = [
    # --- removed / deleted ---
    (
        "ERROR: [youtube] Xy3_abc-DEF: Video unavailable. This video has been removed by the "
        "uploader",
        R.REMOVED,
        P,
    ),
    (
        "ERROR: Video unavailable\nThis video is no longer available because the YouTube account "
        "associated with this video has been terminated.",
        R.REMOVED,
        P,
    ),
    (
        "ERROR: [youtube] Saix8wDp2iA: This video has been removed for violating YouTube's Terms "
        "of Service",
        R.POLICY_REMOVED,
        P,
    ),
    (
        "ERROR: [youtube] abcdefghijk: This video has been removed for violating YouTube's policy "
        "on hate speech.",
        R.POLICY_REMOVED,
        P,
    ),
    ("ERROR: [youtube] abcdefghijk: Video unavailable", R.UNAVAILABLE, P),
    ("ERROR: abcdefghijk: YouTube said: This video is unavailable.", R.UNAVAILABLE, P),
    ("ERROR: j1uy3TlanSk: YouTube said: This video is not available.", R.UNAVAILABLE, P),
    # --- private ---
    (
        "ERROR: [youtube] M7mKMWjAxG8: Private video. Sign in if you've been granted access to "
        f"this video. {LOGIN_HINT}",
        R.PRIVATE,
        P,
    ),
    ("ERROR: Private video\nSign in if you've been granted access to this video", R.PRIVATE, P),
    # --- copyright / geo ---
    (
        "ERROR: [youtube] t36ICau6BuM: Video unavailable. This video contains content from WMG, "
        "who has blocked it on copyright grounds",
        R.COPYRIGHT,
        P,
    ),
    (
        "ERROR: [youtube] abcdefghijk: Video unavailable. This video is no longer available due "
        "to a copyright claim by Some Label",
        R.COPYRIGHT,
        P,
    ),
    (
        "ERROR: [youtube] qh_liphx2no: The uploader has not made this video available in your "
        "country\nThis video is available in Andorra, Belgium.",
        R.GEO_BLOCKED,
        P,
    ),
    (
        "ERROR: [youtube] OLzK_ewEilE: Video unavailable. This video contains content from SME, "
        "who has blocked it in your country on copyright grounds",
        R.GEO_BLOCKED,
        P,
    ),
    (
        "ERROR: [generic] abcdefghijk: This video is not available from your location due to geo "
        "restriction",
        R.GEO_BLOCKED,
        P,
    ),
    # --- members-only / age / payment ---
    (
        "ERROR: [youtube] h7aSM88pUv8: Join this channel to get access to members-only content "
        "like this video, and other exclusive perks.",
        R.MEMBERS_ONLY,
        P,
    ),
    (
        "ERROR: [youtube] abcdefghijk: This video is available to this channel's members on "
        "level: Gold (or any higher level). Join this channel to get access.",
        R.MEMBERS_ONLY,
        P,
    ),
    (
        "ERROR: [youtube] abcdefghijk: Sign in to confirm your age. This video may be "
        f"inappropriate for some users. {LOGIN_HINT}",
        R.AGE_RESTRICTED,
        P,
    ),
    (
        "ERROR: [youtube] abcdefghijk: This video is only available to Music Premium members",
        R.PAYMENT_REQUIRED,
        P,
    ),
    ("ERROR: [youtube] abcdefghijk: This video requires payment to watch.", R.PAYMENT_REQUIRED, P),
    # --- rate limits: wrapped in "Video unavailable", never recorded as deleted ---
    (
        "ERROR: [youtube] SOWBtuuCDig: Video unavailable. This content isn't available, try again "
        f"later. {RATE_LIMIT_TAIL}",
        R.RATE_LIMITED,
        T,
    ),
    (
        "ERROR: [youtube] y5W-c0UwcpQ: This content isn’t available, try again later. "
        f"{RATE_LIMIT_TAIL}",
        R.RATE_LIMITED,
        T,
    ),
    (
        "ERROR: [youtube] abcdefghijk: Video unavailable. The video is temporarily blocked.",
        R.RATE_LIMITED,
        T,
    ),
    ("ERROR: Video unavailable. Your session has been rate-limited.", R.RATE_LIMITED, T),
    (
        "ERROR: [youtube] abcdefghijk: Unable to download API page: HTTP Error 429: Too Many "
        "Requests (caused by <HTTPError 429: Too Many Requests>)",
        R.RATE_LIMITED,
        T,
    ),
    (
        "ERROR: [generic] bbbbbbbbbbb: Unable to download webpage: HTTP Error 429: Too Many "
        "Requests (caused by <HTTPError 429: Too Many Requests>)",
        R.RATE_LIMITED,
        T,
    ),
    # "This content isn't available." alone: intermittent, seen on playable videos
    (
        "ERROR: [youtube] qaImFO_DgAM: Video unavailable. This content isn’t available.",
        R.UNAVAILABLE_UNCONFIRMED,
        T,
    ),
    # --- bot check ---
    (
        "ERROR: [youtube] rVXeIRY6H9c: Sign in to confirm you’re not a bot. This helps protect "
        "our community. Learn more",
        R.BOT_CHECK,
        T,
    ),
    (
        "ERROR: [youtube] tJ51nR4-tLs: Sign in to confirm you're not a bot. " + LOGIN_HINT,
        R.BOT_CHECK,
        T,
    ),
    (
        "ERROR: [youtube] abcdefghijk: Video unavailable. YouTube is requiring a captcha "
        "challenge before playback",
        R.BOT_CHECK,
        T,
    ),
    # --- HTTP status codes ---
    (
        "ERROR: [generic] aaaaaaaaaaa: Unable to download webpage: HTTP Error 404: Not Found "
        "(caused by <HTTPError 404: Not Found>)",
        R.NOT_FOUND,
        P,
    ),
    ("ERROR: unable to download video data: HTTP Error 410: Gone", R.GONE, P),
    ("ERROR: unable to download video data: HTTP Error 403: Forbidden", R.FORBIDDEN, T),
    (
        "ERROR: [generic] ccccccccccc: Unable to download webpage: HTTP Error 500: Internal "
        "Server Error (caused by <HTTPError 500: Internal Server Error>)",
        R.SERVER_ERROR,
        T,
    ),
    (
        "ERROR: unable to download video data: HTTP Error 503: Service Unavailable",
        R.SERVER_ERROR,
        T,
    ),
    ("ERROR: [youtube] abcdefghijk: HTTP Error 502: Bad Gateway", R.SERVER_ERROR, T),
    ("ERROR: Unable to download webpage: HTTP Error 400: Bad Request", R.HTTP_CLIENT_ERROR, P),
    # --- network ---
    (
        "ERROR: [generic] ddddddddddd: Unable to download webpage: Remote end closed connection "
        "without response (caused by TransportError('Remote end closed connection without "
        "response'))",
        R.CONNECTION,
        T,
    ),
    (
        "ERROR: [youtube] abcdefghijk: Unable to download webpage: <urlopen error [Errno 111] "
        "Connection refused> (caused by TransportError('<urlopen error [Errno 111] Connection "
        "refused>'))",
        R.CONNECTION,
        T,
    ),
    (
        "ERROR: [youtube] abcdefghijk: Unable to download webpage: <urlopen error [Errno -3] "
        "Temporary failure in name resolution>",
        R.CONNECTION,
        T,
    ),
    ("ERROR: [Errno 104] Connection reset by peer", R.CONNECTION, T),
    ("ERROR: unable to download video data: The read operation timed out", R.TIMEOUT, T),
    (
        "ERROR: [youtube] abcdefghijk: Unable to download API page: Read timed out. (caused by "
        "TransportError('Read timed out.'))",
        R.TIMEOUT,
        T,
    ),
    ("ERROR: Did not get any data blocks", R.INCOMPLETE, T),
    ("ERROR: The downloaded file is empty", R.INCOMPLETE, T),
    ("ERROR: content too short (expected 1000 bytes and served 10)", R.INCOMPLETE, T),
    ("ERROR: 12345 bytes read, 67890 more expected", R.INCOMPLETE, T),
    # --- formats, URLs, upcoming ---
    (
        "ERROR: [youtube] 9rdJJMAd-PA: Requested format is not available. Use --list-formats for "
        "a list of available formats",
        R.FORMAT_UNAVAILABLE,
        P,
    ),
    ("ERROR: Unsupported URL: http://127.0.0.1:8000/nothing", R.UNSUPPORTED_URL, P),
    ("ERROR: [youtube] abcdefghijk: This live event will begin in a few moments.", R.UPCOMING, T),
    ("ERROR: [youtube] abcdefghijk: Premieres in 2 hours", R.UPCOMING, T),
    # --- unknown stays transient ---
    (
        "ERROR: [youtube] abcdefghijk: Unable to extract uploader id; please report this issue on "
        " https://github.com/yt-dlp/yt-dlp/issues?q= , filling out the appropriate issue template.",
        R.UNKNOWN,
        T,
    ),
    ("", R.UNKNOWN, T),
]


@pytest.mark.parametrize(("message", "reason", "failure_class"), CASES)
def test_classify_failure(message: str, reason: FailureReason, failure_class: FailureClass) -> None:
    failure = classify_failure(message)
    assert failure.reason is reason
    assert failure.failure_class is failure_class
    assert failure.permanent == (failure_class is FailureClass.PERMANENT)


@pytest.mark.parametrize(("message", "reason", "failure_class"), CASES)
def test_classification_survives_normalisation(
    message: str, reason: FailureReason, failure_class: FailureClass
) -> None:
    # The store keeps normalised messages; reclassifying them must give the same answer.
    assert classify_failure(normalise_message(message, "abcdefghijk")).reason is reason


def test_rate_limit_wrapped_in_video_unavailable_is_never_a_removal() -> None:
    for text in (
        "Video unavailable. This content isn't available, try again later.",
        "Video unavailable. Please try again later.",
        "Video unavailable (rate-limited)",
        "Video unavailable. This video is temporarily unavailable",
    ):
        failure = classify_failure(text)
        assert failure.failure_class is FailureClass.TRANSIENT, text
        assert failure.reason not in {R.REMOVED, R.UNAVAILABLE}, text


def test_every_reason_has_the_class_its_set_says() -> None:
    for reason in FailureReason:
        expected = P if reason in PERMANENT_REASONS else T
        assert failure_for(reason).failure_class is expected
    assert failure_for(R.UNKNOWN).failure_class is T


def test_normalise_message_strips_id_prefix_and_colour() -> None:
    raw = (
        "\x1b[0;31mERROR:\x1b[0m [youtube] Xy3_abc-DEF: Video unavailable.\n  This video has been "
        "removed by the uploader (see https://youtu.be/Xy3_abc-DEF)"
    )
    text = normalise_message(raw, "Xy3_abc-DEF")
    assert text == (
        "Video unavailable. This video has been removed by the uploader (see https://youtu.be/<id>)"
    )
    assert "Xy3_abc-DEF" not in text


def test_normalise_message_makes_identical_causes_equal() -> None:
    first = normalise_message(
        "ERROR: [generic] aaaaaaaaaaa: Unable to download webpage: HTTP Error 404: Not Found",
        "aaaaaaaaaaa",
    )
    second = normalise_message(
        "ERROR: [generic] bbbbbbbbbbb: Unable to download webpage: HTTP Error 404: Not Found",
        "bbbbbbbbbbb",
    )
    assert first == second == "Unable to download webpage: HTTP Error 404: Not Found"


def test_normalise_message_drops_bug_report_boilerplate_and_trims() -> None:
    text = normalise_message(
        "ERROR: Unable to extract uploader id; please report this issue on  https://github.com/"
        "yt-dlp/yt-dlp/issues?q= , filling out the appropriate issue template."
    )
    assert text == "Unable to extract uploader id"
    long_text = normalise_message("x" * 1000, max_length=50)
    assert len(long_text) == 50
    assert long_text.endswith("…")
