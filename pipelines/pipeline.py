"""The newswatch pipeline as a chain of named Beam transforms.

    ReadRawBatches -> Clean -> DropSameUrl -> DropSameGuid -> SkipIndexed -> ClusterNearDuplicates
        stories -> TagActorsAndTopics -> MatchWatchlists -> IndexArticles / IndexAlerts
        copies  -> IndexCopies -> SummariseClusters (after IndexArticles)
        items rejected by Clean, SkipIndexed, TagActorsAndTopics or MatchWatchlists -> DeadLetter

Every stage is a plain function from pipelines/; this module only wires them. Nothing lives in worker
memory between bundles but models and clients opened in ``setup``; cross-run state is in Elasticsearch.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import apache_beam as beam
import fsspec
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.pvalue import TaggedOutput

from newswatch.pipelines import deadletter, lookup, sink
from newswatch.pipelines.dedup import packed, resemblance, with_cluster
from newswatch.pipelines.enrich import ItemError, Knowledge, Models, prepare, sort_key, tag_batch
from newswatch.pipelines.language import build_detector
from newswatch.pipelines.match import WatchlistMatcher, build_alert
from newswatch.pipelines.memory import limit_malloc_arenas, release_freed_memory, returning_freed_memory
from newswatch.settings import Settings
from newswatch.store import connect

NS = "newswatch"


def _count(name: str, n: int = 1) -> None:
    beam.metrics.Metrics.counter(NS, name).inc(n)


@contextmanager
def _timed(stage: str) -> Iterator[None]:
    """Adds the time spent inside to counter ``ms_<stage>`` (summed over workers). Results are yielded
    outside the block: in a fused stage, yielding runs the next stage, whose time is not ours."""
    start = time.perf_counter()
    try:
        yield
    finally:
        _count(f"ms_{stage}", round((time.perf_counter() - start) * 1000))


class _StageFn(beam.DoFn):
    """A stage that rejects single items: each goes to output ``rejected`` as a dead-letter record."""

    stage = "?"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def rejected(self, item: dict, reason: str) -> TaggedOutput:
        return TaggedOutput("rejected", deadletter.record(self.stage, item, reason, self.settings))


class CleanFn(_StageFn):
    """Raw item -> cleaned, identified article; a bad item is rejected by name and the others go on."""

    stage = "clean"

    def setup(self) -> None:
        self.detector = build_detector(self.settings.languages)

    def process(self, line: str) -> Iterator:
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            yield self.rejected({"raw_line": line}, f"raw store line is not JSON ({exc})")
            return
        _count("items_read")
        try:
            with _timed("clean"):
                article = prepare(item, self.detector, self.settings)
            yield article
        except ItemError as exc:
            yield self.rejected(item, exc.reason)
        except Exception as exc:  # a bug on one item must not cost the others
            yield self.rejected(item, deadletter.reason(exc))


def earliest(articles: Iterable[dict]) -> dict:
    """Of several items with one canonical URL, the first published (ties: the first feed)."""
    return min(articles, key=lambda a: (sort_key(a), a["feed"]["url"]))


def guid_key(a: dict) -> str:
    """One GUID within one source is one item, whatever URLs it was published under."""
    return f"guid\x1f{a['source']}\x1f{a['guid']}" if a.get("guid") else f"id\x1f{a['id']}"


class _ElasticsearchFn(_StageFn):
    def setup(self) -> None:
        self.es = connect(self.settings)

    def teardown(self) -> None:
        self.es.close()


class SkipIndexedFn(_ElasticsearchFn):
    """Drops articles already stored; marks those that copy a story indexed in an earlier run."""

    stage = "lookup"

    def process(self, batch: list[dict]) -> Iterator:
        with _timed("lookups"):
            resolved, faults = deadletter.isolate(batch, lambda b: lookup.resolve(self.es, self.settings, b))
        _count("already_indexed", sum(1 for _, a in resolved if a is None))
        yield from (a for _, a in resolved if a is not None)
        yield from (self.rejected(a, deadletter.reason(exc)) for a, exc in faults)


class DeadLetterFn(_ElasticsearchFn):
    """Stores the records of rejected items; each is also one log line naming the feed and the item."""

    def process(self, records: list[dict]) -> Iterator[str]:
        deadletter.write(self.es, self.settings, records)
        _count("items_rejected", len(records))
        yield from (r["id"] for r in records)


BUCKET_CHARS = 3  # band keys end in hex digits: their last three spread the entries over 4,096 shuffle keys
SEP = "\x1f"  # in no band key, date or id


def band_entries(a: dict) -> Iterator[tuple[str, str]]:
    """One entry per LSH band, as one string (band key, has prior story, sort key, id, cluster id), keyed by
    a bucket of band keys. A local pipeline's runner holds every entry of a run as a Python object under its
    shuffle key (5,000 articles: 160,000 entries, nearly every band key unique): one short string under one
    of a few thousand keys takes a third of the memory of a tuple of strings under a key of its own. No
    signature: a band entry exists 32 times per article, and only the rare articles that share a band need theirs."""
    published, aid = sort_key(a)
    cluster_id = a["cluster"]["id"]
    tail = f"{0 if cluster_id != aid else 1}{SEP}{published}{SEP}{aid}{SEP}{cluster_id}"
    for key in a["minhash_bands"]:
        yield key[-BUCKET_CHARS:], f"{key}{SEP}{tail}"


SELF = ("self",)  # "this article is a candidate copy: send its signature along"


def shared_bands(entries: Iterable[str]) -> Iterator[list[tuple]]:
    """The entries of one bucket grouped by band key, for each band that more than one article has:
    members as (0 if it has a prior story else 1, sort key, id, cluster id)."""
    bands: dict[str, list[tuple]] = defaultdict(list)
    for e in entries:
        key, flag, published, aid, cluster_id = e.split(SEP)
        bands[key].append((int(flag), (published, aid), aid, cluster_id))
    return (members for members in bands.values() if len(members) > 1)


def candidate_copies(kv: tuple[str, Iterable[str]]) -> Iterator[tuple[str, tuple]]:
    """Articles sharing a band: each one not yet resolved against the index is a candidate copy of every
    earlier one (an indexed story counts as earliest). Keyed by the earlier article, to fetch its signature,
    and by the candidate itself, to fetch its own."""
    for band in shared_bands(kv[1]):
        members = sorted(band, key=lambda m: (m[0], m[1]))
        for i, m in enumerate(members):
            if m[0] == 0:  # already resolved against the index
                continue
            earlier = [e for e in members[:i] if e[2] != m[2]]
            yield from ((e[2], (m[2], e[0], e[1], e[3])) for e in earlier)
            if earlier:
                yield m[2], SELF


def with_signature(kv: tuple[str, dict]) -> Iterator[tuple[str, tuple]]:
    """Each candidate pair once (several bands find it), keyed by the later article, with the earlier one's
    signature; and a candidate's own signature, keyed by itself."""
    if not kv[1]["signature"]:
        return
    sig, shingles = kv[1]["signature"][0]
    wanted = set(kv[1]["candidates"])
    if SELF in wanted:
        wanted.discard(SELF)
        yield kv[0], ("own", sig, shingles)
    for m_id, flag, key, cluster_id in wanted:
        yield m_id, ("rep", flag, key, cluster_id, kv[0], sig, shingles)


def assign_cluster(threshold: float):
    """A candidate copy joins the earliest earlier article it resembles enough: (id, (cluster, story, similarity)).

    Only articles not resolved against the index are candidates (``candidate_copies``), so none of them
    has a cluster yet; one that resembles nothing yields nothing and stays its own story.
    """

    def fn(kv: tuple[str, Iterable[tuple]]) -> Iterator[tuple[str, tuple]]:
        own = [v[1:] for v in kv[1] if v[0] == "own"]
        if not own:
            return
        sig, shingles = own[0]
        similar = []
        for flag, key, cluster_id, rep_id, rep_sig, rep_shingles in (v[1:] for v in kv[1] if v[0] == "rep"):
            if (sim := resemblance(rep_sig, rep_shingles, sig, shingles)) >= threshold:
                similar.append((flag, key, cluster_id, rep_id, round(sim, 3)))
        if similar:
            _, _, cluster_id, rep_id, sim = min(similar)
            yield kv[0], (cluster_id, rep_id, sim)

    return fn


def follow_chain(kv: tuple[str, dict]) -> Iterator[tuple[str, tuple]]:
    """Copies assigned to cluster ``k``; when ``k`` itself joined an earlier cluster, they join that one too."""
    root = kv[1]["root"][0] if kv[1]["root"] else kv[0]
    for m_id, rep_id, sim in kv[1]["members"]:
        yield m_id, (root, rep_id, sim)


def apply_cluster(a: dict, assigned: dict[str, tuple]) -> dict:
    """The article with the cluster this run assigned it, if any."""
    if (found := assigned.get(a["id"])) is None:
        return a
    cluster_id, rep_id, sim = found
    return with_cluster(a, id=cluster_id, duplicate_of=rep_id, similarity=sim)


class ClusterNearDuplicates(beam.PTransform):
    """Joins each copy of a story to the story's cluster: MinHash LSH bands grouped across the whole run.

    Only ids, sort keys and the signatures of candidate pairs are shuffled; articles themselves never
    are: the (few) assignments reach them as a side input, keyed by article id.
    """

    def __init__(self, threshold: float) -> None:
        super().__init__()
        self.threshold = threshold

    def expand(self, articles):
        signatures = articles | "Signatures" >> beam.Map(lambda a: (a["id"], (packed(a["minhash"]), a["shingles"])))
        candidates = (
            articles
            | "BandEntries" >> beam.FlatMap(band_entries)
            | "GroupByBand" >> beam.GroupByKey()
            | "Candidates" >> beam.FlatMap(candidate_copies)
        )
        pairs = {"signature": signatures, "candidates": candidates} | "FetchSignatures" >> beam.CoGroupByKey()
        assigned = (
            pairs
            | "Pairs" >> beam.FlatMap(with_signature)
            | "GroupPairs" >> beam.GroupByKey()
            | "Assign" >> beam.FlatMap(assign_cluster(self.threshold))
        )
        # A copy of a copy: follow one more hop, so the whole chain joins the first story's cluster.
        by_cluster = assigned | "KeyByCluster" >> beam.Map(lambda kv: (kv[1][0], (kv[0], kv[1][1], kv[1][2])))
        roots = assigned | "OwnCluster" >> beam.Map(lambda kv: (kv[0], kv[1][0]))
        final = {"members": by_cluster, "root": roots} | "JoinChains" >> beam.CoGroupByKey() | "FollowChains" >> beam.FlatMap(follow_chain)
        return articles | "ApplyClusters" >> beam.Map(apply_cluster, beam.pvalue.AsDict(final))


def split_copies(a: dict) -> Iterator:
    if a["cluster"]["id"] == a["id"]:
        yield a
    else:
        _count("copies")
        yield TaggedOutput("copies", a)


class TagFn(_StageFn):
    """Actors and topics, with spaCy models loaded once per worker and fed whole batches."""

    stage = "tagging"

    def __init__(self, settings: Settings, knowledge: Knowledge) -> None:
        super().__init__(settings)
        self.knowledge = knowledge

    def setup(self) -> None:
        self.models = Models.load(self.settings)
        release_freed_memory()  # what the stages before left on the heap, before the worker's largest step

    def tag(self, batch: list[dict]) -> list[dict]:
        return list(tag_batch([dict(a) for a in batch], self.models, self.knowledge, self.settings.spacy_batch_size))

    def process(self, batch: list[dict]) -> Iterator:
        with _timed("tag"):
            tagged, faults = deadletter.isolate(batch, self.tag, fault=lambda exc: isinstance(exc, Exception))
        yield from (a for _, a in tagged)
        yield from (self.rejected(a, deadletter.reason(exc)) for a, exc in faults)


class MatchFn(_StageFn):
    """Watchlist rules applied as articles flow; alerts go to their own output."""

    stage = "matching"

    def __init__(self, settings: Settings, knowledge: Knowledge) -> None:
        super().__init__(settings)
        self.knowledge = knowledge

    def setup(self) -> None:
        self.matcher = WatchlistMatcher(self.knowledge.rules)

    def process(self, article: dict) -> Iterator:
        try:
            with _timed("match"):
                matches = self.matcher.match(article)
                article = {**article, "watch": [*article["watch"], *(rule.id for rule, _ in matches)]}
                alerts = [build_alert(rule, hits, article) for rule, hits in matches]
        except Exception as exc:  # one article the matcher cannot handle costs that article only
            yield self.rejected(article, deadletter.reason(exc))
            return
        yield from (TaggedOutput("alerts", alert) for alert in alerts)
        yield article


class IndexFn(_ElasticsearchFn):
    """Bulk creates into one index; yields the ids it wrote (for what must run after)."""

    stage = "index"

    def __init__(self, settings: Settings, index: str, counter: str, transform=None) -> None:
        super().__init__(settings)
        self.index, self.counter, self.transform = index, counter, transform

    def process(self, batch: list[dict], *_after) -> Iterator[str]:
        with _timed("index"):
            docs = [self.transform(d) for d in batch] if self.transform else batch
            counts = sink.bulk_create(self.es, self.index, docs, self.settings)
        for outcome, n in counts.items():
            _count(f"{self.counter}_{outcome}", n)
        yield from (d["cluster"]["id"] if "cluster" in d else d["id"] for d in docs)


class SummariseClustersFn(_ElasticsearchFn):
    def process(self, cluster_ids: list[str], *_after) -> Iterator[int]:
        with _timed("summaries"):
            n = sink.summarise_clusters(self.es, self.settings, set(cluster_ids))
        yield n


def _batches(label: str, settings: Settings, max_size: int | None = None, min_size: int = 1) -> beam.PTransform:
    size = max_size or settings.index_batch_size
    return label >> beam.BatchElements(min_batch_size=min(min_size, size), max_batch_size=size)


def read_unique(p: beam.Pipeline, raw_files: list[str], settings: Settings):
    """Raw-store batches -> cleaned articles, one per canonical URL and per GUID within a source; and rejects."""
    cleaned = (
        p
        | "ReadRawBatches" >> beam.Create(raw_files)
        | "ReadLines" >> beam.io.ReadAllFromText()
        | "SpreadLines" >> beam.Reshuffle()  # a raw batch is one file, read by one worker: all workers clean
        | "Clean" >> beam.ParDo(CleanFn(settings)).with_outputs("rejected", main="articles")
    )
    unique = (
        cleaned.articles
        | "KeyByUrl" >> beam.Map(lambda a: (a["id"], a))
        | "DropSameUrl" >> beam.CombinePerKey(earliest)
        | "KeyByGuid" >> beam.Map(lambda kv: (guid_key(kv[1]), kv[1]))
        | "DropSameGuid" >> beam.CombinePerKey(earliest)
        | "Unkeyed" >> beam.Values()
    )
    return unique, cleaned.rejected


def tag_and_match(stories, settings: Settings, knowledge: Knowledge):
    """Stories -> tagged articles (``articles``), alerts (``alerts``) and the rejected items of both stages."""
    tagged = (
        stories
        | _batches("BatchForTagging", settings, settings.spacy_batch_size * 4, min_size=settings.spacy_batch_size)
        | "TagActorsAndTopics" >> beam.ParDo(TagFn(settings, knowledge)).with_outputs("rejected", main="articles")
    )
    matched = tagged.articles | "MatchWatchlists" >> beam.ParDo(MatchFn(settings, knowledge)).with_outputs(
        "alerts", "rejected", main="articles"
    )
    return matched.articles, matched.alerts, (tagged.rejected, matched.rejected)


def build(p: beam.Pipeline, raw_files: list[str], settings: Settings, knowledge: Knowledge) -> None:
    """Wire the stages; ``raw_files`` are raw-store batches (JSONL, gzip by extension)."""
    unique, clean_rejects = read_unique(p, raw_files, settings)
    looked_up = (
        unique
        | _batches("BatchForLookup", settings)
        | "SkipIndexed" >> beam.ParDo(SkipIndexedFn(settings)).with_outputs("rejected", main="articles")
    )
    articles = (
        looked_up.articles
        | "ClusterNearDuplicates" >> ClusterNearDuplicates(settings.near_duplicate_threshold)
        | "SplitCopies" >> beam.FlatMap(split_copies).with_outputs("copies", main="stories")
    )
    tagged, alerts, tag_rejects = tag_and_match(articles.stories, settings, knowledge)
    written = (
        tagged | _batches("BatchArticles", settings) | "IndexArticles" >> beam.ParDo(IndexFn(settings, settings.articles_alias, "articles"))
    )
    (alerts | _batches("BatchAlerts", settings) | "IndexAlerts" >> beam.ParDo(IndexFn(settings, settings.alerts_index, "alerts")))
    after_articles = beam.pvalue.AsList(written)
    (
        articles.copies
        | _batches("BatchCopies", settings)
        | "IndexCopies" >> beam.ParDo(IndexFn(settings, settings.copies_index, "copies", sink.copy_record), after_articles)
        | "OneList" >> beam.combiners.ToList()
        | "SummariseClusters" >> beam.ParDo(SummariseClustersFn(settings), after_articles)
    )
    (
        (clean_rejects, looked_up.rejected, *tag_rejects)
        | "AllRejected" >> beam.Flatten()
        | _batches("BatchRejected", settings)
        | "DeadLetter" >> beam.ParDo(DeadLetterFn(settings))
    )


def build_enrichment(p: beam.Pipeline, raw_files: list[str], settings: Settings, knowledge: Knowledge) -> None:
    """The same stages without Elasticsearch (no cross-run dedup, no indexing): for benchmarks and dry runs."""
    unique, clean_rejects = read_unique(p, raw_files, settings)
    tagged, _, tag_rejects = tag_and_match(unique, settings, knowledge)
    tagged | "CountTagged" >> beam.Map(lambda _: _count("articles_tagged"))
    (clean_rejects, *tag_rejects) | "AllRejected" >> beam.Flatten() | "CountRejected" >> beam.Map(lambda _: _count("items_rejected"))


def _count_items(raw_files: list[str]) -> int:
    """Lines in the raw batches (compressed JSONL: a fraction of the run's cost to read once more)."""
    total = 0
    for f in raw_files:
        with fsspec.open(f, "rb", compression="infer") as fh:
            total += sum(1 for _ in fh)
    return total


@contextmanager
def _worker_output_to(log_file: Path | None) -> Iterator[None]:
    """Local worker processes inherit this process's stderr and chatter on it (Beam's start-up and harness
    logs): while they run, stderr goes to ``log_file`` instead, so a user sees only newswatch's own lines.
    Failures still surface: the run raises, and the monitor reports it in one line."""
    if log_file is None:
        yield
        return
    log_file.parent.mkdir(parents=True, exist_ok=True)
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with log_file.open("ab") as log:
            os.dup2(log.fileno(), 2)
            yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def _make_visible(settings: Settings) -> None:
    """One refresh at the end of the run (writes never wait for one), so the run's results are searchable at once."""
    es = connect(settings)
    try:
        indices = [settings.articles_alias, settings.copies_index, settings.alerts_index]
        es.options(ignore_status=404).indices.refresh(index=",".join(indices), ignore_unavailable=True)
    finally:
        es.close()


@dataclass
class RunReport:
    counters: dict[str, int] = field(default_factory=dict)

    def get(self, name: str) -> int:
        return self.counters.get(name, 0)


LOCAL_RUNNER = "newswatch.pipelines.local_runner.LocalRunner"  # "DirectRunner" without its switch to a downloaded Prism


def pipeline_options(settings: Settings, items: int | None = None) -> PipelineOptions:
    """The runner is a setting, named explicitly; runner options pass through untouched.

    The local runner gets one worker process per core (``direct_num_workers``), except for a run of fewer
    than ``parallel_min_items`` items, which one in-process worker finishes before more could start.
    """
    if settings.runner == "dask":  # Beam's DaskRunner, fixed (dask_runner.py), on the cluster at dask_address
        dask = ["--runner=newswatch.pipelines.dask_runner.DaskRunner", f"--dask_client_address={settings.dask_address}"]
        return PipelineOptions([*dask, f"--dask_npartitions={settings.dask_partitions}", *settings.runner_options])
    args = [f"--runner={LOCAL_RUNNER if settings.runner == 'DirectRunner' else settings.runner}", *settings.runner_options]
    if settings.runner == "DirectRunner":
        small = items is not None and items < settings.parallel_min_items and not settings.direct_num_workers
        workers = next((int(a.split("=", 1)[1]) for a in args if a.startswith("--direct_num_workers=")), 1 if small else settings.workers)
        if not any(a.startswith("--direct_num_workers") for a in args):
            args.append(f"--direct_num_workers={workers}")
        if workers > 1 and not any(a.startswith("--direct_running_mode") for a in args):
            args.append("--direct_running_mode=multi_processing")  # the only mode where workers run in parallel
    return PipelineOptions(args)


def run(raw_files: list[str], settings: Settings, knowledge: Knowledge | None = None, index: bool = True) -> RunReport:
    """Run the pipeline over raw batches to completion and return its counters (``index=False``: no Elasticsearch)."""
    limit_malloc_arenas(settings.malloc_arena_max)  # before the worker processes start: they inherit it
    knowledge = knowledge or Knowledge.load(settings)
    options = pipeline_options(settings, _count_items(raw_files))
    p = beam.Pipeline(options=options)
    (build if index else build_enrichment)(p, raw_files, settings, knowledge)
    worker_processes = options.get_all_options().get("direct_running_mode") == "multi_processing"
    with _worker_output_to(settings.worker_log_file if worker_processes else None), returning_freed_memory():
        result = p.run()
        result.wait_until_finish()
    if index:
        _make_visible(settings)
    merged: dict[str, int] = {}
    for m in result.metrics().query()["counters"]:
        if m.key.metric.namespace == NS:
            merged[m.key.metric.name] = merged.get(m.key.metric.name, 0) + (m.committed or 0)
    return RunReport(merged)
