"""The HTTP API: every endpoint answers from the real Elasticsearch; bad input is a 400 with a message;
beyond loopback nothing is served without credentials; browsers cannot be tricked into changing rules."""

from __future__ import annotations

import base64
import subprocess
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from newswatch.interfaces.web.app import create_app
from newswatch.interfaces.web.security import WebConfigError, hash_password
from newswatch.interfaces.web.server import build
from newswatch.query.search import HIGHLIGHT
from tests.conftest import drop_indices
from tests.test_e2e import NEWSWATCH, error_lines, newswatch
from tests.web_support import HOSTILE_SOURCE, free_port, index_demo

pytestmark = pytest.mark.integration
TOKEN = "test-token-0123456789abcdef"
STORY = "dd9b1424ac233220857a60a2ee281316"  # the seed article (The Moscow Times), copied by Demo Wire


@pytest.fixture(scope="module")
def settings(tmp_path_factory, es_available):
    s = index_demo(tmp_path_factory.mktemp("web-api"))
    yield s
    drop_indices(s)


@pytest.fixture
def client(settings):
    return TestClient(create_app(settings), base_url="http://127.0.0.1")


def test_search_finds_the_seed_article_with_marked_snippets(client):
    body = client.get("/api/v1/search", params={"q": "Lukashenko", "sort": "newest"}).json()
    assert body["total"] == 1
    hit = body["hits"][0]
    assert hit["id"] == STORY and hit["cluster"]["sources"] == ["Demo Wire", "The Moscow Times"]
    assert "<mark>Lukashenko</mark>" in hit["snippet_html"] and HIGHLIGHT[0] not in hit["snippet"]


def test_the_search_page_shows_the_query_back_without_control_characters(client):
    page = client.get("/search", params={"q": "Luka\x1b[31mshenko\u202e\x80"}).text
    assert "Luka[31mshenko" in page and not any(c in page for c in "\x1b\u202e\x80")


def test_search_filters_narrow_and_bad_filters_are_400(client):
    assert client.get("/api/v1/search", params={"actor": "Harbour Bank"}).json()["total"] == 1
    assert client.get("/api/v1/search", params={"source": ["Demo Wire"]}).json()["total"] == 1
    for params, words in (
        ({"since": "yesterday"}, "since"),
        ({"sort": "random"}, "sort"),
        ({"page": "x"}, "page"),
        ({"size": 1000}, "size"),
    ):
        r = client.get("/api/v1/search", params=params)
        assert r.status_code == 400 and words in r.json()["error"], r.text
        assert "--" not in r.json()["error"]  # the API's parameter names, not the CLI's flags
    r = client.get("/api/v1/search", params={"page": 0})
    assert r.json()["error"] == "page 0: pages start at 1"


def test_stats_by_day_and_hour(client):
    day = client.get("/api/v1/stats", params={"q": "Belarus"}).json()
    assert day["timeline"] == [["2020-09-13", 1]] and ["Alexander Lukashenko", 1] in day["actors"]
    hour = client.get("/api/v1/stats", params={"interval": "hour"}).json()
    assert sum(n for _, n in hour["timeline"]) == hour["total"] and hour["timeline"][0][0].startswith("2020-09-13T")
    assert client.get("/api/v1/stats", params={"interval": "week"}).status_code == 400


def test_story_has_its_copy_and_matched_rules(client):
    story = client.get(f"/api/v1/stories/{STORY}").json()
    assert [c["source"] for c in story["copies"]] == ["Demo Wire"]
    assert {a["rule_id"] for a in story["alerts"]} == {"belarus-leadership", "kremlin-watch", "street-protests"}
    assert client.get(f"/api/v1/stories/{STORY}/copies").json()[0]["cluster"]["duplicate_of"] == STORY
    missing = client.get("/api/v1/stories/no-such-story")
    assert missing.status_code == 404 and "no-such-story" in missing.json()["error"]


def test_actor_profile(client):
    p = client.get("/api/v1/actors/Alexander Lukashenko").json()
    assert p["total"] == 1 and p["timeline"] == [["2020-09-13", 1]]
    assert "Vladimir Putin" in dict(p["co_actors"]) and "Alexander Lukashenko" not in dict(p["co_actors"])
    assert p["latest"][0]["id"] == STORY


def test_alerts_filter_by_rule_and_state(client):
    all_alerts = client.get("/api/v1/alerts").json()
    assert all_alerts["total"] == 3
    one = client.get("/api/v1/alerts", params={"rule": "kremlin-watch", "status": "pending"}).json()
    assert [a["rule_id"] for a in one["alerts"]] == ["kremlin-watch"]
    assert client.get("/api/v1/alerts", params={"status": "delivered"}).json()["total"] == 0
    bad = client.get("/api/v1/alerts", params={"status": "lost"})
    assert bad.status_code == 400 and "pending, delivered, failed" in bad.json()["error"]
    assert bad.json()["error"].startswith("status 'lost': use")


def test_feeds_health_lists_every_feed(client):
    rows = client.get("/api/v1/feeds").json()
    assert {r["name"] for r in rows} == {"The Moscow Times", "Demo Wire", "Riverton Gazette"}
    assert client.get("/api/v1/feeds", params={"sort": "colour"}).status_code == 400


def test_watchlist_crud_preview_and_test(client, settings):
    draft = {"id": "harbour", "name": "Harbour", "keywords": ["Harbour Bank"], "deliver": [{"jsonl": "x.jsonl"}]}
    preview = client.post("/api/v1/watchlists/preview", json=draft).json()
    assert [m["title"] for m in preview] == ["Harbour Bank reports higher quarterly profit as lending grows"]
    assert "harbour" not in {r["id"] for r in client.get("/api/v1/watchlists").json()}, "a preview saves nothing"

    assert client.post("/api/v1/watchlists", json=draft).status_code == 201
    assert client.post("/api/v1/watchlists", json=draft).status_code == 400  # the id exists
    assert client.get("/api/v1/watchlists/harbour/test").json()[0]["terms"] == ["Harbour Bank"]
    changed = client.put("/api/v1/watchlists/harbour", json={**draft, "phrases": ["quarterly profit"]}).json()
    assert changed["phrases"] == ["quarterly profit"]
    before = Path(settings.user_watchlist_file).read_text()
    bad = client.put("/api/v1/watchlists/harbour", json={"id": "harbour", "mode": "sometimes", "keywords": ["x"]})
    assert bad.status_code == 400 and "mode" in bad.json()["error"] and Path(settings.user_watchlist_file).read_text() == before
    assert client.delete("/api/v1/watchlists/harbour").status_code == 204
    assert client.get("/api/v1/watchlists/harbour").status_code == 400


def test_bad_rules_are_400_with_the_schema_reason(client):
    r = client.post("/api/v1/watchlists", json={"id": "Bad Id", "keywords": ["x"]})
    assert r.status_code == 400 and "id" in r.json()["error"]
    r = client.post("/api/v1/watchlists/preview", json={"id": "nothing"})
    assert r.status_code == 400 and "watchlist" in r.json()["error"]
    r = client.post("/api/v1/watchlists", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400 and "Traceback" not in r.text


def test_health_and_openapi_docs(client):
    assert client.get("/api/v1/health").json()["elasticsearch"] in ("green", "yellow")
    spec = client.get("/api/openapi.json").json()
    assert {"/api/v1/search", "/api/v1/watchlists", "/api/v1/watchlists/{rule_id}/test", "/api/v1/feeds"} <= set(spec["paths"])
    docs = client.get("/api/docs")
    assert docs.status_code == 200 and "/api/v1/stories/{story_id}" in docs.text


def test_every_answer_carries_the_security_headers(client):
    r = client.get("/search")
    assert r.headers["content-security-policy"].startswith("default-src 'self'")
    assert "unsafe-inline" not in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"


def test_hostile_feed_strings_are_escaped_in_pages(client):
    page = client.get("/search", params={"q": "Zanzibarian"}).text
    assert HOSTILE_SOURCE not in page and "&lt;script&gt;alert(6)&lt;/script&gt;" in page
    assert "javascript:" not in page.split("<main", 1)[1].replace("javascript:alert(4)", "")  # only the inert snippet text
    assert 'href="javascript' not in page


def test_a_server_error_shows_no_stack_trace(settings):
    broken = TestClient(create_app(settings.model_copy(update={"es_url": "http://127.0.0.1:9"})), base_url="http://127.0.0.1")
    for url in ("/api/v1/search?q=x", "/search?q=x"):
        r = broken.get(url)
        assert r.status_code == 503 and "Traceback" not in r.text and "127.0.0.1:9" in r.text


# --- who may call it -------------------------------------------------------------------------------


def test_refuses_to_start_beyond_loopback_without_credentials(settings):
    with pytest.raises(WebConfigError, match=r"refusing to serve on 0\.0\.0\.0 without authentication"):
        build(settings, "0.0.0.0")
    build(settings, "127.0.0.1")  # loopback alone is fine
    build(settings.model_copy(update={"web_token": SecretStr(TOKEN)}), "0.0.0.0")


def test_with_a_token_every_call_needs_it(settings):
    api = TestClient(build(settings.model_copy(update={"web_token": SecretStr(TOKEN)}), "0.0.0.0"), base_url="http://10.0.0.5")
    r = api.get("/api/v1/search", params={"q": "Lukashenko"})
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
    assert api.get("/api/v1/search", headers={"Authorization": "Bearer wrong-token-000000"}).status_code == 401
    assert api.get("/api/v1/search", headers={"Authorization": f"Bearer {TOKEN}"}).json()["total"] >= 3
    assert api.get("/search", follow_redirects=False).headers["location"].startswith("/login")
    assert api.get("/static/app.css").status_code == 200


def test_users_with_hashed_passwords_log_in(settings, tmp_path):
    users = tmp_path / "users"
    users.write_text(f"ana:{hash_password('correct horse')}\n")
    web = TestClient(build(settings.model_copy(update={"web_users_file": users}), "0.0.0.0"), base_url="http://10.0.0.5")
    basic = base64.b64encode(b"ana:correct horse").decode()
    assert web.get("/api/v1/feeds", headers={"Authorization": f"Basic {basic}"}).status_code == 200
    web.get("/login")
    csrf = web.cookies["nw_csrf"]
    wrong = web.post("/login", data={"csrf_token": csrf, "username": "ana", "password": "nope", "next": "/alerts"})
    assert wrong.status_code == 401
    ok = web.post("/login", data={"csrf_token": csrf, "username": "ana", "password": "correct horse", "next": "https://evil.invalid/"},
                  follow_redirects=False)  # fmt: skip
    assert ok.status_code == 303 and ok.headers["location"] == "/search"
    assert web.get("/alerts").status_code == 200


def test_open_mode_answers_loopback_hosts_only(settings):
    rebound = TestClient(create_app(settings), base_url="http://attacker.example")
    assert rebound.get("/api/v1/search").status_code == 400


def test_state_changes_need_csrf_proof(client):
    rule = {"id": "csrf-probe", "keywords": ["x"]}
    # A cross-site form post: no token, form encoding.
    assert client.post("/watchlists/save", data={"id": "csrf-probe", "keywords": "x", "action": "save"}).status_code == 403
    assert client.post("/api/v1/watchlists", data=rule).status_code == 403
    assert client.post("/api/v1/watchlists", json=rule, headers={"Origin": "https://evil.invalid"}).status_code == 403
    assert "csrf-probe" not in {r["id"] for r in client.get("/api/v1/watchlists").json()}
    # Our own form, with the token from the page's cookie: accepted.
    client.get("/watchlists/new")
    token = client.cookies["nw_csrf"]
    saved = client.post("/watchlists/save", data={"csrf_token": token, "id": "csrf-probe", "keywords": "x", "action": "save"},
                        follow_redirects=False)  # fmt: skip
    assert saved.status_code == 303
    assert client.post("/watchlists/csrf-probe/delete", data={"csrf_token": token}, follow_redirects=False).status_code == 303


OPML = """<?xml version="1.0"?><opml version="2.0"><head><title>x</title></head><body>
<outline text="Example News" xmlUrl="https://news.example.org/rss.xml"/>
<outline text="Local file" xmlUrl="/etc/passwd"/>
<outline text="Demo Wire again" xmlUrl="https://news.example.org/rss.xml"/>
<outline text="Cloud metadata" xmlUrl="http://169.254.169.254/latest/meta-data/"/>
<outline text="Loopback" xmlUrl="http://localhost:9200/_cat/indices"/>
<outline text="Intranet" xmlUrl="http://10.1.2.3/feed.xml"/>
</body></opml>"""


def test_opml_import_adds_public_http_feeds_only(client, settings):
    r = client.post("/api/v1/feeds/import", json={"opml": OPML}).json()
    assert r["added"] == ["https://news.example.org/rss.xml"]
    assert sorted(r["skipped"]) == sorted(["/etc/passwd", "https://news.example.org/rss.xml", "http://169.254.169.254/latest/meta-data/",
                                          "http://localhost:9200/_cat/indices", "http://10.1.2.3/feed.xml"])  # fmt: skip
    names = {row["name"] for row in client.get("/api/v1/feeds").json()}
    assert "Example News" in names and not names & {"Local file", "Cloud metadata", "Loopback", "Intranet"}
    client.get("/feeds")
    page = client.post("/feeds/import", data={"csrf_token": client.cookies["nw_csrf"]}, files={"opml": ("x.opml", OPML.encode())})
    assert page.status_code == 200 and "Imported 0 feeds; skipped 6" in page.text
    bad = client.post("/api/v1/feeds/import", json={"opml": "<opml><body>"})
    assert bad.status_code == 400 and "OPML upload" in bad.json()["error"]


def test_the_web_command_refuses_an_open_server_beyond_loopback_in_one_line(settings, tmp_path):
    env = {"NEWSWATCH_INDEX_PREFIX": settings.index_prefix, "NEWSWATCH_WEB_TOKEN": ""}
    run = newswatch("web", "--host", "0.0.0.0", "--port", str(free_port()), env=env)
    assert run.returncode == 1
    assert error_lines(run) == [
        "error: refusing to serve on 0.0.0.0 without authentication: set NEWSWATCH_WEB_TOKEN (or web_token_file) "
        "or web_users_file, or bind 127.0.0.1"
    ]
    assert "Traceback" not in run.stderr and "newswatch web on" not in run.stderr  # no banner for a server that never starts
    short = newswatch("web", "--host", "0.0.0.0", env={**env, "NEWSWATCH_WEB_TOKEN": "short"})
    assert short.returncode == 1 and "at least 16 characters" in short.stderr


def test_a_login_never_redirects_off_site():
    from newswatch.interfaces.web.pages import _local

    for target in ("https://evil.invalid/", "//evil.invalid/x", "/\\evil.invalid", "javascript:alert(1)"):
        assert _local(target) == "/search", target
    assert _local("/alerts?rule=x") == "/alerts?rule=x"


def test_the_search_page_charts_per_hour_when_everything_is_on_one_day(client):
    page = client.get("/search", params={"q": "Lukashenko | Harbour"}).text
    assert 'data-key="2020-09-13 11:00"' in page and "per hour" in page
    by_day = client.get("/search", params={"q": "Lukashenko", "interval": "day"}).text
    assert 'data-key="2020-09-13"' in by_day


def test_before_anything_is_indexed_pages_say_so(settings):
    empty = TestClient(create_app(settings.model_copy(update={"index_prefix": "nwtest-nothing-here"})), base_url="http://127.0.0.1")
    r = empty.get("/search", params={"q": "x"})
    assert r.status_code == 400 and "run `newswatch run --once` first" in r.text
    assert "run `newswatch run --once` first" in empty.get("/api/v1/search").json()["error"]
    assert empty.get("/api/v1/alerts").json()["total"] == 0


def test_serve_runs_the_web_app_beside_the_schedule(settings):
    import httpx

    from newswatch.interfaces.web.server import serve_in_background

    port = free_port()
    serve_in_background(settings, "127.0.0.1", port)
    for _ in range(100):
        try:
            assert httpx.get(f"http://127.0.0.1:{port}/api/v1/watchlists").status_code == 200
            break
        except httpx.TransportError:
            time.sleep(0.1)
    else:
        pytest.fail("the web app did not come up")


def test_web_password_prints_a_users_file_line_that_verifies():
    from newswatch.interfaces.web.security import verify_password

    run = subprocess.run([NEWSWATCH, "web-password", "ana"], input="correct horse\ncorrect horse\n", capture_output=True, text=True)
    name, _, stored = run.stdout.strip().partition(":")
    assert run.returncode == 0 and name == "ana" and run.stdout.count("\n") == 1
    assert verify_password("correct horse", stored) and not verify_password("wrong horse", stored)


def test_an_unexpected_error_is_one_line_with_no_trace(settings, monkeypatch):
    from newswatch.interfaces.web import api, pages

    def broken(*args, **kwargs):
        raise RuntimeError("secret internals at /srv/newswatch/x.py line 42")

    monkeypatch.setattr(api, "find_alerts", broken)
    monkeypatch.setattr(pages, "find_alerts", broken)
    web = TestClient(create_app(settings), base_url="http://127.0.0.1", raise_server_exceptions=False)
    for url in ("/api/v1/alerts", "/alerts"):
        r = web.get(url)
        assert r.status_code == 500 and "internal error" in r.text
        assert "secret internals" not in r.text and "Traceback" not in r.text
        assert r.headers["content-security-policy"].startswith("default-src 'self'")


def test_backfill_raises_a_rules_alerts_once_per_story(client, tmp_path):
    out = tmp_path / "alerts.jsonl"
    rule = {"id": "lending", "keywords": ["mortgage lending"], "deliver": [{"jsonl": str(out)}]}
    assert client.post("/api/v1/watchlists", json=rule).status_code == 201
    dry = client.post("/api/v1/watchlists/lending/backfill", json={"since": "3650d", "dry_run": True}).json()
    assert dry["new_alerts"] == 1 and dry["alerts_raised"] == 0
    done = client.post("/api/v1/watchlists/lending/backfill", json={"since": "3650d"}).json()
    assert done["alerts_raised"] == 1 and done["alerts"][0]["title"].startswith("Harbour Bank reports")
    assert done["delivered"] >= 1 and "Harbour Bank" in out.read_text()
    again = client.post("/api/v1/watchlists/lending/backfill", json={"since": "3650d"}).json()
    assert again["alerts_raised"] == 0 and again["alerts"][0]["exists"]
    assert client.get("/api/v1/alerts", params={"rule": "lending"}).json()["total"] == 1
    assert client.post("/api/v1/watchlists/lending/backfill", json={"since": "sometime"}).status_code == 400
    assert client.delete("/api/v1/watchlists/lending").status_code == 204


def test_rules_outside_the_users_watchlist_are_read_only(client):
    rules = {r["id"]: r for r in client.get("/api/v1/watchlists").json()}
    assert not rules["kremlin-watch"]["editable"]
    r = client.put("/api/v1/watchlists/kremlin-watch", json={"id": "kremlin-watch", "keywords": ["Kremlin"]})
    assert r.status_code == 400 and "does not edit" in r.json()["error"]
