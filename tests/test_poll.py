"""Polling: every feed ends with items or one clear reason; one broken feed never stops the others."""

import asyncio
from pathlib import Path

import pytest

from newswatch.flows.feedlist import Feed, FeedListError, load_feeds, read_opml, write_opml, write_yaml
from newswatch.flows.poll import Validators, poll_feeds
from newswatch.paths import SEEDS_DIR
from newswatch.settings import Settings

DEMO = SEEDS_DIR / "demo"
SETTINGS = Settings(poll_timeout_s=5, poll_host_min_gap_s=0)


def poll(feeds, known=None, settings=SETTINGS):
    return asyncio.run(poll_feeds(feeds, settings, known))


def test_demo_feed_list_resolves_paths_next_to_it():
    feeds = load_feeds(DEMO / "feeds.yaml")
    assert len(feeds) == 3 and all(Path(f.url).is_file() for f in feeds)


def test_missing_file_and_non_xml_are_reported_by_name_and_others_still_land(tmp_path: Path):
    html = tmp_path / "page.xml"
    html.write_text("<html><body><p>Not a feed</p></body></html>")
    feeds = [Feed(str(tmp_path / "nope.xml")), Feed(str(html)), Feed(str(DEMO / "feeds" / "moscow-times.xml"))]
    missing, not_xml, good = poll(feeds)
    assert missing.status == "failed" and missing.line() == f"feed {tmp_path / 'nope.xml'}: file not found"
    assert not_xml.status == "failed" and not_xml.error_kind == "not_a_feed" and str(html) in not_xml.line()
    assert good.status == "ok" and len(good.items) == 2


def test_items_carry_dates_in_utc_and_their_feed():
    (result,) = poll([Feed(str(DEMO / "feeds" / "moscow-times.xml"), source="The Moscow Times")])
    seed = result.items[0]
    assert seed["published"] == "2020-09-13T11:05:00+00:00"  # +0300 respected
    assert seed["feed"]["source"] == "The Moscow Times" and seed["guid"] and seed["content"].startswith("<p>")


def test_http_feeds_are_polled_and_an_unchanged_body_costs_nothing(serve_dir):
    base = serve_dir(DEMO / "feeds")
    feed = Feed(f"{base}/moscow-times.xml")
    (first,) = poll([feed])
    assert first.status == "ok" and first.validators.last_modified
    (second,) = poll([feed], {feed.id: first.validators})
    assert second.status == "not_modified" and second.items == []
    (changed,) = poll([feed], {feed.id: Validators(body_hash="something else")})
    assert changed.status == "ok"


def test_http_404_is_a_classified_failure(serve_dir):
    base = serve_dir(DEMO / "feeds")
    (r,) = poll([Feed(f"{base}/missing.xml")])
    assert r.status == "failed" and r.error_kind == "gone" and r.http_status == 404


def test_unreachable_host_fails_fast_with_its_url():
    (r,) = poll([Feed("http://127.0.0.1:9/feed.xml")])
    assert r.status == "failed" and r.error_kind == "network" and "127.0.0.1:9" in r.line()


def test_every_real_world_feed_is_polled_without_a_crash(corpora: Path, serve_dir):
    files = sorted(p for p in corpora.rglob("*") if p.is_file() and p.name not in ("LICENSE", "SOURCES.md"))
    base = serve_dir(corpora)
    results = poll([Feed(f"{base}/{p.relative_to(corpora)}") for p in files])
    assert len(results) == len(files)
    for r in results:
        assert r.status in ("ok", "failed"), r.line()
        if r.status == "failed":
            assert r.error, r.line()
    with_items = [r for r in results if r.items]
    assert len(with_items) >= 0.8 * len(files), [r.line() for r in results if not r.items]
    malformed = [r for r in with_items if r.warning and "malformed" in r.warning]
    assert malformed, "the corpus has malformed feeds with usable entries; they should be kept with a reason"


def test_opml_round_trip(tmp_path: Path):
    feeds = load_feeds(DEMO / "feeds.yaml")
    opml = tmp_path / "feeds.opml"
    opml.write_text(write_opml(feeds))
    assert [(f.url, f.name) for f in read_opml(opml)] == [(f.url, f.name) for f in feeds]
    again = tmp_path / "feeds.yaml"
    again.write_text(write_yaml(feeds))
    assert load_feeds(again) == feeds


def test_bad_feed_list_names_the_entry(tmp_path: Path):
    bad = tmp_path / "feeds.yaml"
    bad.write_text("feeds:\n  - {name: no url}\n")
    assert load_feeds(bad).skipped == [f"feed list {bad}: entry 1: 'url' is a required property, skipped"]


def test_a_feed_list_that_is_not_a_list_of_feeds_is_one_error(tmp_path: Path):
    bad = tmp_path / "feeds.yaml"
    bad.write_text("feeds: 3\n")
    with pytest.raises(FeedListError, match=r"feeds.yaml: at feeds: 3 is not of type 'array'"):
        load_feeds(bad)


def test_requests_to_one_host_keep_a_minimum_gap(serve_dir):
    import time

    base = serve_dir(DEMO / "feeds")
    feeds = [Feed(f"{base}/moscow-times.xml?n={i}") for i in range(4)]
    started = time.monotonic()
    results = poll(feeds, settings=Settings(poll_host_min_gap_s=0.3, poll_per_host=4))
    assert all(r.status == "ok" for r in results)
    assert time.monotonic() - started >= 0.9  # three gaps between four starts
