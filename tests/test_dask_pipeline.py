"""The whole pipeline on a Dask cluster (infra/dask.sh: a scheduler and 2 worker processes) gives exactly
what the local runner gives from the same raw batches: articles, actors, topics, clusters, alerts, counters."""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from newswatch.flows.raw_store import RawStore
from newswatch.paths import PROJECT_ROOT
from newswatch.pipelines.pipeline import run
from newswatch.settings import Settings
from newswatch.store import connect, ensure_indices
from tests.conftest import demo_batch, drop_indices

pytestmark = pytest.mark.integration
DASK_SH = PROJECT_ROOT / "infra" / "dask.sh"
TOWNS = ["Riverton", "Oakdale", "Millbrook", "Ashford", "Kingsport", "Fairhaven", "Brookfield", "Westmere", "Harlow", "Elmstead"]
PEOPLE = ["Maria Keller", "John Okafor", "Priya Raman", "Tomas Novak", "Helen Park", "Samuel Ortiz", "Ingrid Larsen", "Ahmed Haddad"]


def dask_sh(command: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(DASK_SH), command], env=env, capture_output=True, text=True, timeout=300)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Cluster:
    address: str
    env: dict[str, str]  # what infra/dask.sh was started with
    home: Path  # its pid files, logs and the code version the workers run

    def worker_pids(self) -> set[str]:
        return {p.read_text().strip() for p in self.home.glob("worker-*.pid")}


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory) -> Iterator[Cluster]:
    """A scheduler and 2 worker processes started by infra/dask.sh on a free port; stopped at the end, whatever happens."""
    env = {k: v for k, v in os.environ.items() if k != "NEWSWATCH_DASK_ADDRESS"}
    home = tmp_path_factory.mktemp("dask")
    env |= {"NEWSWATCH_DASK_PORT": str(free_port()), "NEWSWATCH_DASK_WORKERS": "2", "NEWSWATCH_DASK_HOME": str(home)}
    env["NEWSWATCH_DASK_BIN"] = str(Path(sys.executable).parent)  # workers in the environment running the tests
    try:
        up = dask_sh("up", env)
        assert up.returncode == 0, up.stderr
        yield Cluster(dask_sh("address", env).stdout.strip(), env, home)
    finally:
        dask_sh("down", env)
    assert dask_sh("status", env).returncode != 0, "the test's Dask cluster is still up"


def item(feed: dict, n: int, title: str, paragraphs: list[str], **extra) -> dict:
    return {"feed": feed, "guid": f"{feed['id']}-{n}", "link": f"https://{feed['id']}.example.org/news/{n}", "title": title,
            "content": "".join(f"<p>{p}</p>" for p in paragraphs), "published": f"2026-11-{1 + n % 20:02d}T08:{n % 60:02d}:00+00:00",
            "fetched_at": "2026-11-25T09:00:00+00:00", **extra}  # fmt: skip


SENTENCES = [
    "The harbour district has waited a decade for new housing.",
    "Two schools on the east side are over capacity this year.",
    "A clinic near the station closed in the spring after losing its lease.",
    "Bus routes will change when the new bridge opens.",
    "Farmers in the valley asked for help after a dry summer.",
    "The library will extend its opening hours on weekends.",
    "Police reported fewer burglaries than in the previous quarter.",
    "A local brewery plans to double its output by next year.",
    "The hospital board approved a new maternity ward.",
    "Teachers' unions said salaries have not kept pace with rents.",
    "A storm in October damaged the sea wall near the old pier.",
    "The football club unveiled plans for a larger stadium.",
    "Cyclists protested against the removal of a bike lane on Main Street.",
    "The water utility warned of higher bills from January.",
    "An art festival drew more than forty thousand visitors in August.",
    "The airport expects record passenger numbers next summer.",
    "A tech start-up opened offices in the former textile mill.",
    "Volunteers planted three thousand trees along the river bank.",
    "The fire brigade needs twelve more full-time firefighters.",
    "Shop owners complained about parking charges in the centre.",
]


def local_story(n: int) -> tuple[str, list[str]]:
    """A distinct local story: its own town, people and figures, and five of twenty background sentences."""
    town, person, other = TOWNS[n % len(TOWNS)], PEOPLE[n % len(PEOPLE)], PEOPLE[(n + 3) % len(PEOPLE)]
    background = random.Random(n).sample(SENTENCES, 5)
    return f"{town} council votes on plan {n}", [
        f"The city council of {town} voted {5 + n % 4} to {n % 3} on Tuesday to approve plan number {n}.",
        f"Mayor {person} said the {10 + n} million dollar budget would go a long way.",
        *background,
        f"{other}, who leads the opposition, asked for an audit of plan {n}.",
    ]


def raw_batches(settings: Settings) -> list[str]:
    """Three raw batches: the demo feeds (a story, its syndicated copy, alerts), copies, repeats and a bad item,
    and two dozen local stories, two of them edited copies of others, three naming a watched person."""
    store = RawStore(settings.data_dir)
    demo = demo_batch(settings)
    seed = next(it for it in RawStore.read(demo) if "Lukashenko" in it["content"])
    wire = {"id": "wire", "url": "https://wire.example.org/rss", "title": "Example Wire", "source": "Example Wire", "language": "en"}
    gazette = {"id": "gazette", "url": "https://gazette.example.org/rss", "title": "Gazette", "source": "Gazette", "language": "en"}
    edited = seed["content"].replace("Bloomberg reported Sunday", "the agency reported on Sunday")
    repeats = [
        {**seed},  # the same item polled again
        {**seed, "feed": wire, "link": "https://wire.example.org/world/belarus-succession", "guid": "w-1", "content": edited},
        {**seed, "feed": gazette, "link": "https://gazette.example.org/a/77", "guid": "g-77", "content": edited + "<p>Gazette staff.</p>"},
        {**seed, "feed": wire, "link": "https://wire.example.org/world/belarus-succession-v2", "guid": "w-1"},  # same GUID, new URL
        {"feed": wire, "summary": "", "content": ""},  # nothing to identify or show: rejected with a reason
    ]
    stories = [item(gazette, n, *local_story(n)) for n in range(24)]
    stories[5]["content"] += "<p>Vladimir Putin was not mentioned by the council, but Kremlin media covered the vote.</p>"
    stories[9]["content"] += "<p>Protesters have taken to the streets of the town every weekend since.</p>"
    title, paragraphs = local_story(3)
    stories.append(item(wire, 103, title, [*paragraphs[:4], "Reporting by Example Wire."]))  # an edited copy
    title, paragraphs = local_story(11)
    stories.append(item(wire, 111, f"{title} (update)", paragraphs))
    return [demo, store.write_batch(repeats), store.write_batch(stories)]


def indexed(settings: Settings) -> dict[str, dict]:
    """What a user can see: each index's documents by id, reduced to the fields the pipeline decides."""
    es = connect(settings)
    out: dict[str, dict] = {}
    for name, index in (("articles", settings.articles_alias), ("copies", settings.copies_index), ("alerts", settings.alerts_index)):
        es.indices.refresh(index=index)
        hits = es.search(index=index, size=1000, query={"match_all": {}})["hits"]["hits"]
        out[name] = {h["_id"]: decided(h["_source"]) for h in hits}
    return out


def counts(counters: dict[str, int]) -> dict[str, int]:
    """The run's counts of items, articles, copies and alerts; not the per-stage milliseconds (``ms_*``)."""
    return {k: v for k, v in counters.items() if not k.startswith("ms_")}


def decided(doc: dict) -> dict:
    keep = ("title", "language", "actors", "topics", "cluster", "watch", "rule_id", "cluster_id", "article_id", "matched", "ner")
    return {k: doc[k] for k in keep if k in doc}


@pytest.fixture
def dask_settings(es_settings: Settings, dask_cluster: Cluster) -> Iterator[Settings]:
    prefix = f"{es_settings.index_prefix}-dask"
    settings = es_settings.model_copy(update={"index_prefix": prefix, "runner": "dask", "dask_address": dask_cluster.address})
    yield settings
    drop_indices(settings)


def test_workers_run_this_checkout(dask_cluster: Cluster):
    from distributed import Client

    with Client(dask_cluster.address, timeout=30) as client:
        paths = client.run(lambda: __import__("newswatch.pipelines.pipeline").__file__)
    assert len(paths) == 2
    assert {Path(p).resolve().parent for p in paths.values()} == {PROJECT_ROOT / "newswatch"}


def test_up_again_keeps_the_workers_and_restarts_them_when_the_code_changed(dask_cluster: Cluster):
    before = dask_cluster.worker_pids()
    assert dask_sh("up", dask_cluster.env).returncode == 0
    assert dask_cluster.worker_pids() == before
    (dask_cluster.home / "code-version").write_text("older code\n")  # as if the checkout changed since they started
    again = dask_sh("up", dask_cluster.env)
    assert again.returncode == 0 and "code changed" in again.stderr
    assert len(dask_cluster.worker_pids()) == 2 and not dask_cluster.worker_pids() & before


def test_an_existing_cluster_named_by_address_starts_nothing(dask_cluster: Cluster, tmp_path: Path):
    env = {**dask_cluster.env, "NEWSWATCH_DASK_ADDRESS": dask_cluster.address, "NEWSWATCH_DASK_HOME": str(tmp_path / "unused")}
    up = dask_sh("up", env)
    assert up.returncode == 0 and "2 workers" in up.stderr and "nothing started" in up.stderr
    assert not (tmp_path / "unused").exists()
    assert dask_sh("down", env).returncode == 0 and dask_sh("status", dask_cluster.env).returncode == 0


def test_dask_indexes_exactly_what_the_local_runner_indexes(es_settings: Settings, dask_settings: Settings):
    batches = raw_batches(es_settings)
    results = {}
    for settings in (es_settings, dask_settings):
        ensure_indices(connect(settings), settings)
        report = run(batches, settings)
        results[settings.runner] = (report.counters, indexed(settings))
    (local_counters, local), (dask_counters, on_dask) = results["DirectRunner"], results["dask"]

    # 3 demo stories + 24 local ones; 5 copies (syndicated, edited, same GUID); 3 demo alerts + 2 local; 1 bad item
    expected = {"items_read": 36, "items_rejected": 1, "copies": 5, "articles_created": 27, "copies_created": 5, "alerts_created": 5}
    assert {k: local_counters.get(k) for k in expected} == expected
    assert counts(dask_counters) == counts(local_counters)
    assert on_dask["articles"].keys() == local["articles"].keys()
    assert on_dask == local
