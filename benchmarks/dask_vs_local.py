"""The whole pipeline (clean, dedup, cluster, tag, match, index into Elasticsearch) on the local runner and
on a Dask cluster of 2 worker processes, over the same raw batches, side by side in one run.

    .venv/bin/python -m benchmarks.dask_vs_local [--articles 2000] [--batches 8] [--workers 2] [--port 8786]

Articles are distinct mixes of real sentences: three paragraphs of four sentences, each paragraph's drawn
from a different document of ../shared/corpora/gum-dev (Wikinews interviews and Wikipedia biographies);
one in twenty is followed by an edited copy from another outlet, so clustering has work to do. Nothing of
the corpus is written into the repository: the raw batches go to a temporary folder.

Each runner writes into its own fresh indices (``--prefix``-local, ``--prefix``-dask, deleted afterwards
unless ``--keep``). The Dask cluster is started with infra/dask.sh (``--port``), or is the one at
NEWSWATCH_DASK_ADDRESS; the first Dask run includes its workers loading spaCy, as the local run does; with
``--warm`` a second Dask run (fresh indices) shows a long-running cluster whose workers kept their models.
Load average is printed next to each figure: on a shared machine timings move with it.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import tempfile
import time

from newswatch.flows.raw_store import RawStore
from newswatch.paths import PROJECT_ROOT
from newswatch.pipelines.pipeline import run
from newswatch.settings import Settings
from newswatch.store import connect, ensure_indices

GUM = PROJECT_ROOT.parent / "shared" / "corpora" / "gum-dev"
DASK_SH = PROJECT_ROOT / "infra" / "dask.sh"
FETCHED_AT = "2026-11-25T09:00:00+00:00"


def documents() -> list[list[str]]:
    if not GUM.is_dir():
        raise SystemExit(f"the corpus is not at {GUM} (shared/ beside the checkout)")
    return [[s for s in p.read_text(encoding="utf-8").splitlines() if len(s.split()) >= 4] for p in sorted(GUM.glob("*.txt"))]


def mixed_articles(n: int, seed: int = 7) -> list[tuple[str, list[str]]]:
    """``n`` distinct articles (title, paragraphs): three paragraphs of four sentences, each paragraph's taken
    at random (in their order) from a different document, so no article is a near duplicate of another."""
    docs, rng, seen, out = documents(), random.Random(seed), set(), []
    while len(out) < n:
        paragraphs = [" ".join(doc[i] for i in sorted(rng.sample(range(len(doc)), 4))) for doc in rng.sample(docs, 3)]
        if (key := "\n".join(paragraphs)) not in seen:
            seen.add(key)
            out.append((" ".join(paragraphs[0].split()[:12]), paragraphs))
    return out


def raw_items(n: int) -> list[dict]:
    outlets = [{"id": f"o{k}", "url": f"https://o{k}.example.org/rss", "source": f"Outlet {k}", "language": "en"} for k in range(20)]
    items = []
    for i, (title, paragraphs) in enumerate(mixed_articles(n)):
        feed = outlets[i % len(outlets)]
        day = f"2026-11-{1 + i % 24:02d}T{i % 24:02d}:{i % 60:02d}:00+00:00"
        base = {"feed": feed, "title": title, "published": day, "fetched_at": FETCHED_AT}
        items.append({**base, "link": f"https://{feed['id']}.example.org/a/{i}", "guid": f"{i}", "content": html(paragraphs)})
        if i % 20 == 0:  # an edited copy elsewhere: last paragraph dropped, a credit line added
            copy = outlets[(i + 7) % len(outlets)]
            edited = [*paragraphs[:-1], paragraphs[-1].split(". ")[0] + ".", f"Reporting by {copy['source']}."]
            link = f"https://{copy['id']}.example.org/c/{i}"
            items.append({**base, "feed": copy, "link": link, "guid": f"c{i}", "content": html(edited)})
    return items


def html(paragraphs: list[str]) -> str:
    return "".join(f"<p>{p}</p>" for p in paragraphs)


def load() -> str:
    return f"{os.getloadavg()[0]:.2f}"


def fresh(settings: Settings) -> None:
    es = connect(settings)
    es.options(ignore_status=404).indices.delete(index=f"{settings.index_prefix}-*", expand_wildcards="all")
    ensure_indices(es, settings)


def drop(settings: Settings) -> None:
    es = connect(settings)
    es.options(ignore_status=404).indices.delete(index=f"{settings.index_prefix}-*", expand_wildcards="all")
    for name in ("articles", "copies", "alerts", "feeds"):
        es.options(ignore_status=404).indices.delete_index_template(name=f"{settings.index_prefix}-{name}")


def timed(label: str, batches: list[str], settings: Settings, n_items: int) -> dict[str, int]:
    fresh(settings)
    before = load()
    start = time.perf_counter()
    report = run(batches, settings)
    seconds = time.perf_counter() - start
    print(f"{label:<34} {seconds:7.1f} s  {n_items / seconds:6.1f} items/s   1-min load before {before}, after {load()}", flush=True)
    return report.counters


def dask_cluster(args: argparse.Namespace) -> tuple[str, dict[str, str] | None]:
    """The address of the cluster to use, and the environment to stop it with (None: not ours)."""
    if address := os.environ.get("NEWSWATCH_DASK_ADDRESS"):
        return address, None
    env = {**os.environ, "NEWSWATCH_DASK_PORT": str(args.port), "NEWSWATCH_DASK_WORKERS": str(args.workers)}
    subprocess.run(["bash", str(DASK_SH), "up"], env=env, check=True)
    return subprocess.run(["bash", str(DASK_SH), "address"], env=env, check=True, capture_output=True, text=True).stdout.strip(), env


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--batches", type=int, default=8, help="raw-store batches the items are spread over")
    parser.add_argument("--workers", type=int, default=2, help="Dask worker processes (1 thread each)")
    parser.add_argument("--partitions", type=int, default=None, help="dask_partitions (default: the setting)")
    parser.add_argument("--port", type=int, default=8786, help="scheduler port for infra/dask.sh")
    parser.add_argument("--prefix", default="nwbench")
    parser.add_argument("--warm", action="store_true", help="also a second Dask run on the same (warm) workers")
    parser.add_argument("--keep", action="store_true", help="keep the indices")
    args = parser.parse_args()

    items = raw_items(args.articles)
    copies = len(items) - args.articles
    print(f"{args.articles} distinct articles + {copies} edited copies in {args.batches} raw batches; {os.cpu_count()} cores")
    address, started = dask_cluster(args)
    with tempfile.TemporaryDirectory(prefix="nwbench-") as tmp:
        store = RawStore(tmp)
        batches = [store.write_batch(items[k :: args.batches]) for k in range(args.batches)]
        local = Settings(index_prefix=f"{args.prefix}-local", data_dir=tmp)
        extra = {"dask_partitions": args.partitions} if args.partitions else {}
        dask = local.model_copy(update={"index_prefix": f"{args.prefix}-dask", "runner": "dask", "dask_address": address, **extra})
        try:
            counters = {"local": timed(f"local runner ({local.workers} worker processes)", batches, local, len(items))}
            label = f"Dask, {args.workers} workers ({dask.dask_partitions} partitions)"
            counters["dask"] = timed(label, batches, dask, len(items))
            if args.warm:
                counters["dask, warm"] = timed(f"{label}, warm workers", batches, dask, len(items))
        finally:
            for settings in () if args.keep else (local, dask):
                drop(settings)
            if started:
                subprocess.run(["bash", str(DASK_SH), "down"], env=started, check=False)
    counts = {name: {k: v for k, v in sorted(c.items()) if not k.startswith("ms_")} for name, c in counters.items()}
    for name, c in counts.items():
        print(f"{name:<12} {c}")
    if len({tuple(c.items()) for c in counts.values()}) != 1:
        raise SystemExit("the runners' counters differ")


if __name__ == "__main__":
    main()
