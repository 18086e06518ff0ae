"""The HTML report in headless Chromium: no console errors, plots load, the table works."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from voxrepro.audit import Report, compare_segments
from voxrepro.audit.writers import write_reports
from voxrepro.segment import Segment, make_segment

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
EVIL = "</script><script>window.pwned=1</script>"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="headless Chromium not installed at /usr/bin/chromium (apt-get install chromium)",
    ),
]


def seg(ref: str, utt: str, start: int, n: int, identity: str = "id00001") -> Segment:
    return make_segment(identity, ref, utt, np.arange(start, start + n),
                        np.tile((0.3, 0.2, 0.4, 0.7), (n, 1)))


def known_report() -> Report:
    """12 rows: 8 matched (2 videos), 2 missed, 1 missed with a hostile identity, 1 extra."""
    official = [seg("aaaaaaaaaaa", f"{i:05d}", 300 * i, 100 + i) for i in range(5)]
    official += [seg("bbbbbbbbbbb", f"{i:05d}", 300 * i, 120 + i, "id00002") for i in range(5)]
    official.append(seg("ccccccccccc", "00001", 0, 90, identity=EVIL))
    generated = [seg(s.reference, "g" + s.utterance, s.first_frame + 2, s.num_frames)
                 for s in official[:8]]
    generated.append(seg("ddddddddddd", "g", 0, 80))
    return compare_segments(official, generated)


def big_report(n_videos: int = 50) -> Report:
    official = [seg(f"v{v:010d}", f"{i:05d}", 300 * i, 100) for v in range(n_videos)
                for i in range(5)]
    return compare_segments(official, official[::2])


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def open_report(browser, folder: Path, report: Report):  # type: ignore[no-untyped-def]
    path = write_reports(report, folder, ["html"])["html"]
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: errors.append(f"network: {r.url}")
            if not r.url.startswith(("file:", "data:")) else None)
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return page, errors


def body_column(page, name: str) -> list[str]:  # type: ignore[no-untyped-def]
    index = page.eval_on_selector_all(
        "#segments-head th", "(ths, n) => ths.findIndex(t => t.textContent === n)", name)
    assert index >= 0, name
    return page.eval_on_selector_all(
        "#segments-body tr", "(trs, i) => trs.map(tr => tr.children[i].textContent)", index)


def test_report_renders_with_plots_and_one_row_per_segment(browser, tmp_path: Path) -> None:
    report = known_report()
    page, errors = open_report(browser, tmp_path, report)
    images = page.eval_on_selector_all(
        "img", "els => els.map(e => [e.id, e.complete, e.naturalWidth])")
    assert [i[0] for i in images] == ["plot-tiou_hist", "plot-box_iou_hist", "plot-boundary_hist",
                                      "plot-recall_curve", "plot-identity_bars"]
    assert all(complete and width > 0 for _, complete, width in images)
    assert page.locator("#segments-body tr").count() == report.num_rows == 12
    assert body_column(page, "status").count("matched") == 8
    assert page.evaluate("window.pwned") is None  # the hostile identity stayed text
    assert EVIL in body_column(page, "identity")
    card = page.inner_text('[data-metric="segment_recall"] .v')
    assert card == f"{8 / 11:.3f}"
    shot = tmp_path / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    assert errors == []
    page.close()


def test_table_sorts_and_filters(browser, tmp_path: Path) -> None:
    report = known_report()
    page, errors = open_report(browser, tmp_path, report)
    page.click('#segments-head th:text-is("num_frames")')
    frames = [int(v) for v in body_column(page, "num_frames")]
    assert frames == sorted(frames) and len(frames) == 12
    page.click('#segments-head th:text-is("num_frames")')
    frames = [int(v) for v in body_column(page, "num_frames")]
    assert frames == sorted(frames, reverse=True)
    page.click('#segments-head th:text-is("reference")')
    refs = body_column(page, "reference")
    assert refs == sorted(refs)

    page.fill("#filter", "bbbbbbbbbbb")
    assert page.locator("#segments-body tr").count() == 5
    assert set(body_column(page, "reference")) == {"bbbbbbbbbbb"}
    page.fill("#filter", "")
    page.select_option("#status-filter", "missed")
    assert body_column(page, "status") == ["missed"] * 3
    page.select_option("#status-filter", "extra")
    assert body_column(page, "reference") == ["ddddddddddd"]
    page.select_option("#status-filter", "")
    assert page.locator("#segments-body tr").count() == 12
    assert errors == []
    page.close()


def test_large_table_is_paged(browser, tmp_path: Path) -> None:
    report = big_report()  # 250 official segments, half found
    page, errors = open_report(browser, tmp_path, report)
    assert report.num_rows == 250
    assert page.locator("#segments-body tr").count() == 100
    assert "of 250 rows" in page.inner_text("#row-count")
    page.click("#next")
    page.click("#next")
    assert page.locator("#segments-body tr").count() == 50
    assert page.is_disabled("#next")
    page.select_option("#page-size", "0")
    assert page.locator("#segments-body tr").count() == 250
    assert errors == []
    page.close()
