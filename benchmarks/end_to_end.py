"""The whole job, end to end, next to raw spaCy on the same article bodies in the same run.

    .venv/bin/python -m benchmarks.end_to_end [--articles 2000] [--copies 0.05] [--feeds 0] [--fresh-prefect] [--pss]

Articles: N distinct ones, each made of sentences drawn from different real articles (the feed corpus
in ../shared/corpora/feeds and the GUM texts in ../shared/corpora/gum-dev, read in place, never
copied): 3 to 6 paragraphs of 3 to 5 sentences, a headline from another sentence, seeded so every run
builds the same set. Copies of the same sentence mix do not recur, so nothing clusters by accident;
``--copies`` adds that share of syndicated copies (the same body under another feed and URL, with a
new headline), which the pipeline folds into clusters and summarises. They are served as RSS feeds
(at most 400 items each, one loopback address per feed) by a local HTTP server.

Then one real ``newswatch run --once`` with default settings (demo watchlist, default workers and
batch sizes) into a fresh index prefix, its process tree's peak RSS sampled every 0.2 s (``--pss``:
also its PSS at each new RSS peak, which slows the run, see ``run_once``). Its data dir
is new, but Prefect's database in it is created first (one start of the temporary server, timed and
printed apart): only a data dir's very first run creates it, every scheduled run after finds it
(``--fresh-prefect`` times that first run instead). Then raw
spaCy (``nlp.pipe``, NER components, ``n_process`` = cores, model load included) on the N distinct
bodies (``--baseline-articles K``: the first K only, for large N: its rate does not depend on N); then
a second ``run --once`` over the unchanged feeds. The ratio counts only the N distinct stories for
both (the copies are extra work for newswatch alone). Indices and data are removed after.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import math
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

from benchmarks.near_duplicates.dataset import corpus_articles
from newswatch.paths import PROJECT_ROOT
from newswatch.pipelines.enrich import load_ner_model
from newswatch.settings import Settings
from newswatch.store import connect

GUM = PROJECT_ROOT.parent / "shared" / "corpora" / "gum-dev"
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'])")
ITEMS_PER_FEED = 400


def sentence_pool() -> list[tuple[int, str]]:
    """(source document, sentence) for every sentence of 6 to 60 words in the shared corpora."""
    pool = []
    for doc, article in enumerate(corpus_articles()):
        for para in article.paragraphs:
            pool += [(doc, s) for s in SENTENCE_END.split(para) if 6 <= len(s.split()) <= 60]
    for doc, path in enumerate(sorted(GUM.glob("*.txt")), start=len(pool)):
        lines = path.read_text(encoding="utf-8").splitlines()
        pool += [(doc, s.strip()) for s in lines if 6 <= len(s.split()) <= 60]
    return pool


def mixed_articles(n: int, seed: int = 16) -> list[tuple[str, list[str]]]:
    """N (headline, paragraphs) built from sentences of different source documents."""
    pool = sentence_pool()
    rng = random.Random(seed)
    made = []
    for _ in range(n):
        paragraphs, used_docs = [], set()
        for _ in range(rng.randint(3, 6)):
            sentences = []
            for _ in range(rng.randint(3, 5)):
                doc, sentence = rng.choice(pool)
                while doc in used_docs:
                    doc, sentence = rng.choice(pool)
                used_docs.add(doc)
                sentences.append(sentence)
            paragraphs.append(" ".join(sentences))
        headline = " ".join(rng.choice(pool)[1].split()[:12]).rstrip(".,;:")
        made.append((headline, paragraphs))
    return made


def write_feeds(root: Path, stories: list[tuple[str, list[str]]], copies: float, feeds: int) -> tuple[Path, int]:
    """RSS files (one per loopback host) and a feed list; returns (feed list path, number of copies)."""
    rng = random.Random(1616)
    now = datetime.now(UTC)
    items: list[list[tuple[str, str, str, datetime]]] = [[] for _ in range(feeds)]
    for i, (title, paragraphs) in enumerate(stories):
        body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
        items[i % feeds].append((f"story-{i}", title, body, now - timedelta(minutes=i % 600)))
    n_copies = int(len(stories) * copies)
    for j in range(n_copies):
        i = rng.randrange(len(stories))
        title, paragraphs = stories[i]
        body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
        items[(i + 1 + j) % feeds].append((f"copy-{j}-of-{i}", f"Syndicated: {title}", body, now - timedelta(minutes=i % 600 - 5)))
    lines = ["feeds:"]
    for f, entries in enumerate(items):
        host = f"feed{f}.bench.example"
        xml = [f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Bench {f}</title><link>https://{host}/</link>']
        for key, title, body, when in entries:
            xml.append(
                f"<item><title>{escape(title)}</title><link>https://{host}/{key}</link><guid>https://{host}/{key}</guid>"
                f"<pubDate>{format_datetime(when)}</pubDate><description>{escape(body)}</description></item>"
            )
        xml.append("</channel></rss>")
        (root / f"feed{f}.xml").write_text("".join(xml), encoding="utf-8")
        lines.append(f"  - {{url: 'http://127.0.0.{f % 250 + 2}:{{port}}/feed{f}.xml', name: Bench {f}, source: Bench {f}, language: en}}")
    feed_list = root / "feeds.yaml.in"
    feed_list.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return feed_list, n_copies


def serve(root: Path) -> http.server.ThreadingHTTPServer:
    """One server on 0.0.0.0 answers every loopback address (127.0.0.x are distinct hosts to the poller)."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    class Server(http.server.ThreadingHTTPServer):
        request_queue_size = 128  # socketserver's default backlog of 5 drops the poller's concurrent connects: 1 s SYN retries

    server = Server(("0.0.0.0", 0), functools.partial(Quiet, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def tree_rss_mb(root_pid: int, names: dict[int, str]) -> dict[str, float]:
    """Resident memory of a process and each of its descendants, in MB by "pid command" (from /proc).

    Only ``stat`` files are read each time: they take no lock in the measured processes. A command line
    is read once per pid (into ``names``): reading it takes the process's memory lock, as ``smaps`` does.
    """
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
            rss[int(stat.parent.name)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            continue
    found, todo = {}, [root_pid]
    while todo:
        pid = todo.pop()
        if pid not in names:
            try:
                names[pid] = _short(Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
            except OSError:
                continue
        found[f"{pid} {names[pid]}"] = rss.get(pid, 0) / 1e6
        todo += children.get(pid, [])
    return found


def _short(cmd: str) -> str:
    for part in ("sdk_worker_main", "prefect", "uvicorn", "newswatch.interfaces.cli"):
        if part in cmd:
            return part
    return cmd[:40]


def pss_mb(pid: int) -> float:
    """Proportional set size: shared pages split between the processes that map them (smaps_rollup)."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024 / 1e6
    except (OSError, ValueError):
        pass
    return 0.0


def run_once(feeds_file: Path, env: dict[str, str], cwd: Path, pss: bool = False) -> tuple[float, dict[str, float], float, str]:
    """(wall seconds, RSS by process at the tree's peak, peak summed PSS or 0, output) of one ``newswatch run --once``.

    PSS (``pss``) is read at each new RSS peak from ``smaps_rollup``, which walks the process's page tables
    under its memory lock: a worker allocating meanwhile waits, and the run is slower (10,000 articles:
    224 s with it, 186 s without; 232 s read every 0.2 s), so it is off unless asked for."""
    cmd = [sys.executable, "-m", "newswatch.interfaces.cli", "run", "--once", "--feeds", str(feeds_file)]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak: dict[str, float] = {}
    peak_pss = 0.0
    names: dict[int, str] = {}
    out: list[str] = []
    reader = threading.Thread(target=lambda: out.append(proc.stdout.read()), daemon=True)
    reader.start()
    while proc.poll() is None:
        now = tree_rss_mb(proc.pid, names)
        if sum(now.values()) > sum(peak.values()):
            peak = now
            if pss:
                peak_pss = max(peak_pss, sum(pss_mb(int(k.split()[0])) for k in now))
        time.sleep(0.2)
    reader.join()
    wall = time.perf_counter() - start
    if proc.returncode:
        print("".join(out)[-3000:])
        raise SystemExit(f"newswatch run --once failed with exit code {proc.returncode}")
    return wall, peak, peak_pss, "".join(out)


def cpu_s(who: int = resource.RUSAGE_CHILDREN) -> float:
    """CPU seconds (user + system) of this process, or of its finished children and theirs."""
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def elasticsearch_cpu_s() -> float:
    """CPU seconds Elasticsearch has used so far, when it runs on this machine (0 otherwise)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if b"org.elasticsearch" in (stat.parent / "cmdline").read_bytes():
                fields = stat.read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            continue
    return total


def create_prefect_database(env: dict[str, str], cwd: Path) -> float:
    """Seconds to start Prefect's temporary server once on an empty PREFECT_HOME (it creates its SQLite
    database, runs the migrations and registers its block types there), as a data dir's very first run does.
    Every later run, scheduled or by hand, finds that database: the timed runs do too."""
    start = time.perf_counter()
    code = "from newswatch.interfaces.ephemeral import start_temporary_api; start_temporary_api()()"
    subprocess.run([sys.executable, "-c", code], env=env, cwd=cwd, check=True)
    return time.perf_counter() - start


def report_line(output: str, key: str) -> str:
    row = re.compile(rf"│ {re.escape(key)}\s+│\s*(\S+)")
    found = [m.group(1) for line in output.splitlines() if (m := row.search(line))]
    if found:
        return f"{key}: {found[-1]}"
    lines = [line.strip() for line in output.splitlines() if line.strip().startswith(key)]
    return lines[-1] if lines else f"{key}: (not printed)"


def raw_spacy(bodies: list[str], settings: Settings, cores: int) -> tuple[float, int]:
    start = time.perf_counter()
    nlp = load_ner_model(settings.spacy_model)
    entities = sum(len(doc.ents) for doc in nlp.pipe(bodies, batch_size=settings.spacy_batch_size, n_process=cores))
    return time.perf_counter() - start, entities


def index_mb(settings: Settings) -> float:
    """The articles' primary store size, merged to one segment: comparable between runs (after the timed runs)."""
    es = connect(settings)
    es.indices.forcemerge(index=settings.articles_alias, max_num_segments=1)
    stats = es.indices.stats(index=settings.articles_alias, metric="store")
    return stats["_all"]["primaries"]["store"]["size_in_bytes"] / 2**20


def cleanup(settings: Settings) -> None:
    es = connect(settings)
    es.options(ignore_status=404).indices.delete(index=f"{settings.index_prefix}-*", expand_wildcards="all")
    templates = es.options(ignore_status=404).indices.get_index_template(name=f"{settings.index_prefix}-*")
    for t in templates.get("index_templates", []):
        es.indices.delete_index_template(name=t["name"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--copies", type=float, default=0.05, help="share of extra syndicated copies")
    parser.add_argument("--feeds", type=int, default=0, help="default: enough for 400 items per feed, at least 25")
    parser.add_argument("--baseline-articles", type=int, default=0,
                        help="raw spaCy on the first K bodies only (its rate is flat in N); default: all")  # fmt: skip
    parser.add_argument("--fresh-prefect", action="store_true",
                        help="time a data dir's very first run: Prefect's database is created inside the timed run")  # fmt: skip
    parser.add_argument("--pss", action="store_true",
                        help="also read PSS at each new RSS peak (smaps_rollup: it slows the measured run)")  # fmt: skip
    parser.add_argument("--prefix", default=f"nwspeed-e2e-{uuid.uuid4().hex[:6]}")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    stories = mixed_articles(args.articles)
    bodies = ["\n\n".join(p) for _, p in stories]  # what the pipeline gives the model: the body
    words = sum(len(b.split()) for b in bodies) / len(bodies)
    feeds = args.feeds or max(25, math.ceil(args.articles * (1 + args.copies) / ITEMS_PER_FEED))
    print(f"{len(stories)} distinct articles ({words:.0f} words on average), {cores} cores, load {os.getloadavg()[0]:.2f}")

    with tempfile.TemporaryDirectory(prefix="nw-e2e-") as tmp:
        root = Path(tmp)
        (root / "feeds").mkdir()
        template, n_copies = write_feeds(root / "feeds", stories, args.copies, feeds)
        server = serve(root / "feeds")
        feeds_file = root / "feeds.yaml"
        feeds_file.write_text(template.read_text().replace("{port}", str(server.server_address[1])), encoding="utf-8")
        env = {**os.environ, "NEWSWATCH_INDEX_PREFIX": args.prefix, "NEWSWATCH_DATA_DIR": str(root / "data"),
               "PREFECT_HOME": str(root / "prefect"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "COLUMNS": "250"}  # fmt: skip
        settings = Settings(index_prefix=args.prefix)
        print(f"{feeds} feeds, {len(stories) + n_copies} items ({n_copies} syndicated copies); prefix {args.prefix}")
        try:
            prefect_s = 0.0 if args.fresh_prefect else create_prefect_database(env, root)
            before = cpu_s(), elasticsearch_cpu_s()
            wall, peak, peak_pss, output = run_once(feeds_file, env, root, args.pss)
            run_cpu, es_cpu = cpu_s() - before[0], elasticsearch_cpu_s() - before[1]
            baseline = bodies[: args.baseline_articles] if args.baseline_articles else bodies
            before = cpu_s() + cpu_s(resource.RUSAGE_SELF)
            spacy_s, entities = raw_spacy(baseline, settings, cores)
            spacy_cpu = cpu_s() + cpu_s(resource.RUSAGE_SELF) - before
            again_wall, _, _, again_output = run_once(feeds_file, env, root)
            articles_mb = index_mb(settings)
        finally:
            server.shutdown()
            cleanup(settings)

    print("first run  ", " | ".join(report_line(output, k) for k in ("new items", "articles indexed", "copies", "alerts")))
    print("first run  ", " | ".join(report_line(output, k) for k in ("alerts delivered", "alerts pending", "items rejected")))
    print("first run  ", report_line(output, "seconds:"))
    for line in [x.strip() for x in output.splitlines() if x.strip().startswith(("error:", "warning:"))][:20]:
        print("first run  ", line)  # e.g. an item the pipeline rejected, with its stage and reason
    print("second run ", report_line(again_output, "not modified"), "|", report_line(again_output, "new items"))
    print("second run ", report_line(again_output, "seconds:"), "(the rest of its time is start-up: Python, Prefect's API, the flow run)")
    ours, raw = len(stories) / wall, len(baseline) / spacy_s
    if prefect_s:
        print(f"Prefect's database created before the runs (a data dir's first run only): {prefect_s:.1f} s, not in the figures")
    print(f"newswatch run --once (poll .. delivery, with start-up): {wall:7.1f} s  {ours:6.1f} articles/s")
    print(f"peak RSS of its process tree: {sum(peak.values()):,.0f} MB (" + ", ".join(f"{k} {v:,.0f}" for k, v in peak.items()) + ")")
    if args.pss:
        print(f"peak PSS of its process tree (shared library pages counted once; read at each new RSS peak): {peak_pss:,.0f} MB")
    sample = f"on the first {len(baseline):,} bodies, " if len(baseline) < len(bodies) else ""
    print(f"raw spaCy nlp.pipe (NER only, n_process={cores}, {sample}{entities} entities): {spacy_s:7.1f} s  {raw:6.1f} articles/s")
    print(f"articles index on disk: {articles_mb:,.1f} MB ({articles_mb * 1024 / len(stories):.1f} KB per article)")
    print(f"CPU of the first run: newswatch's processes {run_cpu:.1f} s + Elasticsearch {es_cpu:.1f} s"
          f" = {run_cpu + es_cpu:.1f} of {cores} x {wall:.1f} = {cores * wall:.1f} core-seconds;"
          f" raw spaCy {spacy_cpu:.1f} of {cores * spacy_s:.1f}")  # fmt: skip
    print(f"newswatch per article: {wall / len(stories) * 1000:.1f} ms")
    print(f"end to end / raw spaCy: {ours / raw:.2f}")
    print(f"second run over unchanged feeds: {again_wall:.1f} s ({again_wall / wall:.1%} of the first)")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
