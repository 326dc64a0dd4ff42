"""The web app in a real browser (Debian's chromium driven by Playwright) against the real Elasticsearch
with the demo data: what an analyst sees and clicks. Screenshots land in docs/screenshots/ for the README."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from newswatch.interfaces.web.app import create_app
from newswatch.paths import PROJECT_ROOT
from tests.conftest import drop_indices
from tests.web_support import HOSTILE_SOURCE, LiveServer, index_demo

pytestmark = pytest.mark.integration
CHROMIUM = Path(os.environ.get("NEWSWATCH_CHROMIUM", "/usr/bin/chromium"))
SHOTS = PROJECT_ROOT / "docs" / "screenshots"
LATE_ITEM = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Late Wire</title><link>https://late.invalid/</link><description>x</description>
<item><title>Harbour Bank opens twelve branches in the north</title><link>https://late.invalid/harbour-branches</link>
<guid>late-1</guid><pubDate>Mon, 14 Sep 2020 08:00:00 +0000</pubDate>
<description>Harbour Bank said on Monday it would open twelve new branches across the northern provinces, hiring
about three hundred staff, as mortgage demand in smaller towns kept rising through the summer months.</description></item>
</channel></rss>
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory, es_available):
    root = tmp_path_factory.mktemp("web-browser")
    settings = index_demo(root)
    with LiveServer(create_app(settings)) as server:
        yield server.url, settings, root
    drop_indices(settings)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), f"{CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium); .ci/run does"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    pg = context.new_page()
    pg.csp_errors = []
    pg.dialogs = []
    pg.on("console", lambda m: "Content Security Policy" in m.text and pg.csp_errors.append(m.text))
    pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))
    yield pg
    assert not pg.csp_errors, pg.csp_errors
    context.close()


def shot(pg, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_search_finds_the_seed_article_with_highlights(site, page, browser):
    url, _, _ = site
    page.goto(f"{url}/search")
    page.keyboard.press("/")
    page.keyboard.type("Lukashenko")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search?q=Lukashenko*")
    hits = page.locator("li.hit")
    assert hits.count() == 1
    assert "Putin to Back Belarus" in hits.first.locator("h2").inner_text()
    assert "Lukashenko" in page.locator("li.hit .snippet mark").all_inner_texts()
    assert hits.first.locator(".badge").inner_text() == "2 sources"
    shot(page, "search")
    phone = browser.new_page(viewport={"width": 390, "height": 844})
    phone.goto(f"{url}/search?q=Belarus")
    assert phone.locator("li.hit").count() == 1
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390, "no sideways scrolling on a phone"
    shot(phone, "search-phone")
    phone.close()


def test_a_facet_click_narrows_the_results(site, page):
    url, _, _ = site
    page.goto(f"{url}/search")
    everything = page.locator("li.hit").count()
    page.locator('[data-facet="source"] a', has_text="Demo Wire").click()
    page.wait_for_url("**source=Demo+Wire*")
    assert page.locator("li.hit").count() == 1 < everything
    assert "Harbour Bank" in page.locator("li.hit h2").inner_text()
    assert page.locator(".active-filters .chip.on").inner_text().startswith("source: Demo Wire")


def test_the_story_lists_the_syndicated_copy(site, page):
    url, _, _ = site
    page.goto(f"{url}/search?q=Lukashenko")
    page.locator("details.copies summary").click()  # copies on demand, fetched from the API
    copy = page.locator("details.copies .copy-list li:not(.loading)")
    copy.first.wait_for()
    assert copy.count() == 1 and copy.first.inner_text().startswith("Demo Wire")
    page.locator("li.hit h2 a").click()
    page.wait_for_url("**/story/**")
    timeline = page.locator("ol.timeline li")
    assert timeline.count() == 2
    assert "Demo Wire" in timeline.nth(1).inner_text() and "Kremlin wary of Belarus protests" in timeline.nth(1).inner_text()
    assert page.locator("ol.timeline a").first.get_attribute("rel") == "noopener noreferrer"
    shot(page, "story")


def test_the_actor_chart_has_data_points(site, page):
    url, _, _ = site
    page.goto(f"{url}/search?q=Lukashenko")
    page.locator("li.hit .tags a.chip", has_text="Alexander Lukashenko").click()
    page.wait_for_url("**/actor?name=Alexander*")
    bars = page.locator("figure.chart rect.bar")
    assert bars.count() >= 1 and bars.first.get_attribute("data-count") == "1"
    bars.first.focus()  # keyboard reachable; the figure says what the bar is
    assert page.locator(".chart-tip").inner_text() == "2020-09-13: 1"
    assert "Vladimir Putin" in page.locator("section", has_text="Appears with").inner_text()
    shot(page, "actor")


def test_a_new_rule_previewed_then_a_monitor_run_puts_its_alert_in_the_inbox(site, page):
    url, settings, root = site
    page.goto(f"{url}/watchlists")
    page.get_by_role("link", name="New rule").click()
    page.get_by_label("Id", exact=False).first.fill("harbour-watch")
    page.get_by_role("textbox", name="Name", exact=True).fill("Harbour Bank news")
    page.locator("textarea[name=keywords]").fill("Harbour Bank")
    page.get_by_role("button", name="Preview matches").click()
    preview = page.locator("section.preview")
    assert "would have matched 1 indexed story" in preview.inner_text()
    assert "Harbour Bank reports higher quarterly profit" in preview.inner_text()
    shot(page, "rule-preview")
    page.get_by_role("button", name="Save rule").click()
    page.wait_for_url("**/watchlists?saved=harbour-watch")
    assert page.locator("table.rules tr", has_text="harbour-watch").count() == 1
    shot(page, "watchlists")

    late = root / "late.xml"
    late.write_text(LATE_ITEM, encoding="utf-8")
    feeds = root / "late-feeds.yaml"
    feeds.write_text(f"feeds:\n  - {{url: '{late}', name: Late Wire, source: Late Wire}}\n", encoding="utf-8")
    env = {**os.environ, "NEWSWATCH_ES_URL": settings.es_url, "NEWSWATCH_INDEX_PREFIX": settings.index_prefix,
           "NEWSWATCH_DATA_DIR": settings.data_dir, "NEWSWATCH_FEEDS_FILE": str(feeds),
           "NEWSWATCH_WATCHLIST_FILE": str(settings.watchlist_file),
           "NEWSWATCH_USER_WATCHLIST_FILE": str(settings.user_watchlist_file),
           "NEWSWATCH_LOCAL_FEED_DIRS": json.dumps([str(root)])}  # fmt: skip  # the late feed is a local file here
    run = subprocess.run([sys.executable, "-m", "newswatch.interfaces.cli", "run", "--once"], env=env, cwd=root,
                         capture_output=True, text=True, timeout=600)  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Alerts").click()
    page.get_by_label("Rule").select_option("harbour-watch")
    page.get_by_role("button", name="Filter").click()
    alerts = page.locator("li.alert")
    assert alerts.count() == 1
    assert "Harbour Bank opens twelve branches" in alerts.first.inner_text()
    assert "Harbour Bank" in alerts.first.locator(".matched").inner_text()
    page.goto(f"{url}/alerts")
    shot(page, "alerts")


def test_a_hostile_feed_item_is_inert_text(site, page):
    url, _, _ = site
    page.goto(f"{url}/search?q=Zanzibarian")
    hit = page.locator("li.hit")
    assert hit.count() == 1
    assert hit.locator(".source").inner_text() == HOSTILE_SOURCE, "markup from a feed is shown as the text it is"
    assert "[bold red]rich[/bold red] **markdown**" in hit.locator("h2").inner_text()
    assert "[img](javascript:alert(4))" in hit.locator(".snippet").inner_text()
    assert page.locator("main img, main script").count() == 0
    assert page.locator('a[href^="javascript"]').count() == 0
    originals = hit.locator("a", has_text="original")  # javascript: links are rejected before indexing
    assert all((originals.nth(i).get_attribute("href") or "").startswith("https://") for i in range(originals.count()))
    hit.locator("h2 a").click()
    page.wait_for_url("**/story/**")
    assert page.locator("main img, main script").count() == 0 and page.locator('a[href^="javascript"]').count() == 0
    assert page.dialogs == [], "no script from the feed ran"


def test_feeds_health_and_api_docs(site, page):
    url, _, _ = site
    page.goto(f"{url}/feeds")
    rows = page.locator("table.feeds tbody tr")
    for name in ("The Moscow Times", "Demo Wire", "Riverton Gazette"):
        assert rows.filter(has_text=name).count() == 1
    # A feed polled from another list (the monitor run above) has health but is not in this list: it says so.
    assert rows.filter(has_text="not in the list").count() == rows.count() - 3
    page.get_by_role("link", name="feed", exact=True).click()
    assert page.locator("th[aria-sort]").inner_text().startswith("feed")
    shot(page, "feeds")
    page.goto(f"{url}/api/docs")
    assert page.locator("section.endpoint").count() >= 12
