"""Managing rules: add, remove and test them; a rule that does not validate is never written, and a bad rule
is one line naming its file, rule and field, on load as on `watch add`."""

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from newswatch.interfaces.cli import app
from newswatch.paths import SEEDS_DIR
from newswatch.pipelines.watchlist import WatchlistError, load_rules, load_watchlist
from newswatch.query.watchlists import add_rule, remove_rule, rule_would_match
from newswatch.settings import Settings


@pytest.fixture
def rules_file(tmp_path: Path) -> Path:
    path = tmp_path / "watch.yaml"
    shutil.copy(SEEDS_DIR / "demo" / "watchlist.yaml", path)
    return path


def test_add_then_remove(rules_file: Path):
    add_rule(rules_file, {"id": "sochi", "name": "Sochi", "keywords": ["Sochi"], "deliver": [{"jsonl": "x.jsonl"}]})
    assert "sochi" in {r.id for r in load_watchlist(rules_file)}
    remove_rule(rules_file, "sochi")
    assert "sochi" not in {r.id for r in load_watchlist(rules_file)}


def test_an_invalid_rule_is_refused_and_the_file_is_unchanged(rules_file: Path):
    before = rules_file.read_text()
    with pytest.raises(WatchlistError, match=r"rule .no-terms.: needs at least one of entities, keywords, phrases"):
        add_rule(rules_file, {"id": "no-terms", "name": "nothing to watch"})
    assert rules_file.read_text() == before


def test_duplicate_and_unknown_ids_are_errors(rules_file: Path):
    with pytest.raises(WatchlistError, match="exists"):
        add_rule(rules_file, {"id": "kremlin-watch", "keywords": ["x"]})
    with pytest.raises(WatchlistError, match="no rule with id 'nope'"):
        remove_rule(rules_file, "nope")


@pytest.mark.integration
def test_a_rule_is_tested_against_indexed_articles(indexed, rules_file: Path):
    es, settings, _ = indexed
    add_rule(rules_file, {"id": "harbour", "keywords": ["Harbour Bank"]})
    settings = settings.model_copy(update={"watchlist_file": rules_file})
    assert [a["title"] for a, _ in rule_would_match(es, settings, "harbour")] == [
        "Harbour Bank reports higher quarterly profit as lending grows"
    ]
    assert [terms for _, terms in rule_would_match(es, settings, "belarus-leadership")] == [["Alexander Lukashenko"]]


def test_watch_test_finds_what_a_run_would_alert_on_in_the_possessive(indexed, rules_file: Path):
    """A run alerts on "Harbour Bank's" for the keyword Harbour Bank; testing the rule on the index finds it too."""
    es, settings, _ = indexed
    article = {"title": "Savers queue outside Harbour Bank's branches", "text": "Harbour Bank's customers waited for hours."}
    es.index(index=settings.articles_alias, id="possessive", document=article, refresh=True)
    add_rule(rules_file, {"id": "harbour", "keywords": ["Harbour Bank"]})
    settings = settings.model_copy(update={"watchlist_file": rules_file})
    titles = [a["title"] for a, _ in rule_would_match(es, settings, "harbour")]
    assert sorted(titles) == ["Harbour Bank reports higher quarterly profit as lending grows", article["title"]]


def test_watch_test_knows_an_entity_by_the_canonical_name_tagging_gives_it(indexed, rules_file: Path):
    """A rule written with another spelling of a known actor finds the articles a run would alert on."""
    es, settings, _ = indexed
    add_rule(rules_file, {"id": "aleksandr", "entities": [{"name": "Aleksandr Lukashenko", "type": "PERSON"}]})
    settings = settings.model_copy(update={"watchlist_file": rules_file})
    titles = [a["title"] for a, _ in rule_would_match(es, settings, "aleksandr")]
    assert titles and all("Belarus" in t or "Lukashenko" in t for t in titles)


BAD_RULES = [
    ("{id: hook, keywords: [x], deliver: [{webhook: 'not a url'}]}",
     "rule 'hook', field deliver[0].webhook: 'not a url' is not an http(s) URL"),
    ("{id: ftp, keywords: [x], deliver: [{webhook: 'ftp://example.org/x'}]}",
     "rule 'ftp', field deliver[0].webhook: 'ftp://example.org/x' is not an http(s) URL"),
    ("{id: secret-only, keywords: [x], deliver: [{secret_env: HOOK_SECRET}]}",
     "rule 'secret-only', field deliver[0]: a target needs exactly one destination (webhook, jsonl, apprise)"),
    ("{id: unset, keywords: [x], deliver: [{webhook: 'http://127.0.0.1:9/h', secret_env: NEWSWATCH_TEST_UNSET_SECRET}]}",
     "rule 'unset', field deliver[0].secret_env: the environment variable NEWSWATCH_TEST_UNSET_SECRET is not set"),
    ("{id: nowhere, keywords: [x], deliver: [{jsonl: 'TMP/a-file/alerts.jsonl'}]}",
     "rule 'nowhere', field deliver[0].jsonl: TMP/a-file/alerts.jsonl cannot be written"),
    ("{id: empty, keywords: []}", "rule 'empty', field keywords: [] should be non-empty"),
    ("{id: blank, phrases: ['  ']}", "rule 'blank', field phrases[0]: must not be blank"),
    ("{id: typo, keywords: [x], deliver: [{jsonl: a.jsonl, webhok: 'http://x/'}]}",
     "rule 'typo', field deliver[0]: Additional properties are not allowed ('webhok' was unexpected)"),
]  # fmt: skip


@pytest.mark.parametrize(("rule", "problem"), BAD_RULES, ids=[p.split("'")[1] for _, p in BAD_RULES])
def test_watch_list_names_the_rule_and_field_of_each_bad_rule(tmp_path: Path, rule: str, problem: str):
    (tmp_path / "a-file").write_text("not a folder")
    path = tmp_path / "w.yaml"
    path.write_text(f"rules:\n  - {rule.replace('TMP', str(tmp_path))}\n")
    result = CliRunner().invoke(app, ["watch", "list", "--watchlist", str(path)], env={"NEWSWATCH_TEST_UNSET_SECRET": ""})
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [f"error: watchlist {path}: {problem.replace('TMP', str(tmp_path))}"]


def test_watch_add_refuses_a_webhook_that_is_not_a_url_and_a_secret_that_is_not_set(tmp_path: Path):
    path = tmp_path / "mine.yaml"
    for args, problem in [
        (["--webhook", "example.org/hook"], "field deliver[0].webhook: 'example.org/hook' is not an http(s) URL"),
        (["--secret-env", "NEWSWATCH_TEST_UNSET_SECRET"], "field deliver[0]: a target needs exactly one destination"),
        (["--webhook", "https://example.org/h", "--secret-env", "NEWSWATCH_TEST_UNSET_SECRET"],
         "field deliver[0].secret_env: the environment variable NEWSWATCH_TEST_UNSET_SECRET is not set"),
    ]:  # fmt: skip
        result = CliRunner().invoke(app, ["watch", "add", "r", "--keyword", "x", *args, "--watchlist", str(path)])
        assert result.exit_code == 1
        assert result.stderr.startswith(f"error: watchlist {path}: rule 'r', {problem}")
        assert not path.exists()


def test_watch_add_keeps_the_files_comments_and_layout(rules_file: Path):
    before = rules_file.read_text()
    result = CliRunner().invoke(app, ["watch", "add", "sochi", "--keyword", "Sochi", "--watchlist", str(rules_file)])
    assert result.exit_code == 0, result.output
    after = rules_file.read_text()
    assert after.startswith(before)  # every comment and flow-style line as written; the rule is appended
    assert "id: sochi" in after[len(before) :]
    assert CliRunner().invoke(app, ["watch", "remove", "sochi", "--watchlist", str(rules_file)]).exit_code == 0
    assert rules_file.read_text() == before


def test_rules_added_by_default_go_to_the_users_file_never_the_bundled_demo(tmp_path: Path):
    demo = SEEDS_DIR / "demo" / "watchlist.yaml"
    demo_before = demo.read_bytes()
    mine = tmp_path / "mine.yaml"
    env = {"NEWSWATCH_USER_WATCHLIST_FILE": str(mine)}
    added = CliRunner().invoke(app, ["watch", "add", "sochi", "--keyword", "Sochi"], env=env)
    assert added.exit_code == 0, added.output
    assert added.stdout.strip() == f"added rule sochi to {mine}"
    assert demo.read_bytes() == demo_before
    assert [r.id for r in load_watchlist(mine)] == ["sochi"]
    settings = Settings(user_watchlist_file=mine)
    assert {r.id for r in load_rules(settings)} == {"belarus-leadership", "kremlin-watch", "street-protests", "sochi"}  # what runs use
    listed = CliRunner().invoke(app, ["watch", "list"], env={**env, "COLUMNS": "300"})
    assert "4 rules in" in listed.stdout and "sochi" in listed.stdout
    again = CliRunner().invoke(app, ["watch", "add", "kremlin-watch", "--keyword", "x"], env=env)
    assert again.exit_code == 1 and "a rule with id 'kremlin-watch' exists" in again.stderr
    removed = CliRunner().invoke(app, ["watch", "remove", "kremlin-watch"], env=env)
    assert removed.exit_code == 1
    assert f"it is in {demo}, which this command does not edit" in removed.stderr
    bundled = CliRunner().invoke(app, ["watch", "add", "x", "--keyword", "x", "--watchlist", str(demo)])
    assert bundled.exit_code == 1 and "is bundled with newswatch" in bundled.stderr
    assert demo.read_bytes() == demo_before


def test_run_checks_the_watchlist_before_polling_anything(tmp_path: Path):
    path = tmp_path / "w.yaml"
    path.write_text("rules:\n  - {id: hook, keywords: [x], deliver: [{webhook: 'not a url'}]}\n")
    result = CliRunner().invoke(app, ["run", "--once", "--watchlist", str(path), "--feeds", str(tmp_path / "none.yaml")])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"error: watchlist {path}: rule 'hook', field deliver[0].webhook: 'not a url' is not an http(s) URL"
    ]
