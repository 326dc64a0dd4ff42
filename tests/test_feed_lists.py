"""Feed lists are input from elsewhere: a bad entry is skipped with one line naming the file and the entry,
the rest are polled; only http(s) feeds, and local feed files only inside the folders a user allowed."""

from pathlib import Path

from newswatch.flows.feedlist import load_feeds
from newswatch.paths import DEMO_FEEDS_DIR


def feed_list(tmp_path: Path, *urls: str) -> Path:
    path = tmp_path / "feeds.yaml"
    path.write_text("feeds:\n" + "".join(f"  - {{url: '{u}'}}\n" for u in urls))
    return path


def test_a_malformed_url_skips_that_entry_with_one_line_and_keeps_the_others(tmp_path):
    path = feed_list(tmp_path, "https://one.example/feed.xml", "http://[::1", "https://two.example/rss")
    feeds = load_feeds(path)
    assert [f.url for f in feeds] == ["https://one.example/feed.xml", "https://two.example/rss"]
    assert feeds.skipped == [f"feed list {path}: entry 2: invalid URL 'http://[::1' (Invalid IPv6 URL), skipped"]


def test_an_entry_of_the_wrong_shape_skips_that_entry_alone(tmp_path):
    path = tmp_path / "feeds.yaml"
    path.write_text(
        "feeds:\n  - {url: 'https://one.example/feed.xml'}\n  - {url: 12345}\n  - just a string\n  - {url: 'https://two.example/rss'}\n"
    )
    feeds = load_feeds(path)
    assert [f.url for f in feeds] == ["https://one.example/feed.xml", "https://two.example/rss"]
    assert feeds.skipped == [
        f"feed list {path}: entry 2: url: 12345 is not of type 'string', skipped",
        f"feed list {path}: entry 3: 'just a string' is not of type 'object', skipped",
    ]


def test_schemes_other_than_http_are_unsupported_not_missing_files(tmp_path):
    path = feed_list(tmp_path, "htp://typo.example/feed", "ftp://files.example/feed.xml", "gopher://old.example/")
    feeds = load_feeds(path)
    assert list(feeds) == []
    assert feeds.skipped == [
        f"feed list {path}: entry 1: unsupported scheme 'htp' in 'htp://typo.example/feed' (feeds are http or https), skipped",
        f"feed list {path}: entry 2: unsupported scheme 'ftp' in 'ftp://files.example/feed.xml' (feeds are http or https), skipped",
        f"feed list {path}: entry 3: unsupported scheme 'gopher' in 'gopher://old.example/' (feeds are http or https), skipped",
    ]


def test_local_files_outside_the_allowed_folders_are_never_read(tmp_path):
    (tmp_path / "mine.xml").write_text("<rss/>")
    path = feed_list(tmp_path, "file:///etc/passwd", "/etc/passwd", "../../../../etc/hostname", "mine.xml")
    feeds = load_feeds(path)
    assert list(feeds) == []
    assert [line.split(": ", 2)[1] for line in feeds.skipped] == ["entry 1", "entry 2", "entry 3", "entry 4"]
    assert all("outside the folders allowed by setting local_feed_dirs" in line for line in feeds.skipped)
    assert "/etc/passwd" in feeds.skipped[0] and str(tmp_path / "mine.xml") in feeds.skipped[3]


def test_local_files_inside_an_allowed_folder_are_polled(tmp_path):
    (tmp_path / "mine.xml").write_text("<rss/>")
    path = feed_list(tmp_path, "mine.xml", f"file://{tmp_path}/mine.xml")
    feeds = load_feeds(path, local_dirs=[tmp_path])
    assert [f.url for f in feeds] == [str(tmp_path / "mine.xml")] * 2 and feeds.skipped == []


def test_the_bundled_demo_feeds_are_allowed_by_default():
    assert len(load_feeds(DEMO_FEEDS_DIR.parent / "feeds.yaml")) == 3


def test_an_imported_opml_cannot_index_or_probe_local_files(tmp_path):
    opml = tmp_path / "subscriptions.opml"
    opml.write_text(
        '<?xml version="1.0"?><opml version="2.0"><body>'
        '<outline text="fine" xmlUrl="https://news.example/rss"/>'
        '<outline text="probe" xmlUrl="/etc/ssl/openssl.cnf"/>'
        '<outline text="relative" xmlUrl="../secrets/feed.xml"/>'
        "</body></opml>"
    )
    feeds = load_feeds(opml)
    assert [f.url for f in feeds] == ["https://news.example/rss"]
    assert [line.split(": ", 2)[1] for line in feeds.skipped] == ["entry 2", "entry 3"]
