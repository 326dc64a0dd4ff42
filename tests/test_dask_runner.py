"""Beam's DaskRunner fixes (newswatch.pipelines.dask_runner), each checked against the stock runner.

Every test runs a small pipeline on a dask.distributed cluster of 2 worker processes, once on the fixed
runner and once on Beam's stock ``DaskRunner``; the stock run is a strict xfail, so each test shows the
bug it covers, and a Beam release that fixes it turns the xfail into a failure to remove the fix.
Written without newswatch code in the pipelines, so they can be offered upstream as they are.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import apache_beam as beam
import pytest
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.runners.dask.dask_runner import DaskRunner as StockDaskRunner

from newswatch.pipelines.dask_runner import DaskRunner, stable_hash

TIMEOUT_MS = 60_000
STOCK = pytest.param(StockDaskRunner, id="stock", marks=pytest.mark.xfail(strict=True, reason="bug in Beam's stock DaskRunner"))
RUNNERS = [pytest.param(DaskRunner, id="fixed"), STOCK]


@pytest.fixture(scope="module")
def cluster_address():
    from dask.distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", scheduler_port=0, dashboard_address=":0"
    ) as cluster:
        yield cluster.scheduler_address


def run(runner_class, build, address: str, partitions: int = 4):
    """Build a pipeline with ``build(p)``, run it to completion, return the result."""
    options = PipelineOptions([f"--dask_client_address={address}", f"--dask_npartitions={partitions}"])
    p = beam.Pipeline(runner=runner_class(), options=options)
    build(p)
    result = p.run()
    try:
        result.wait_until_finish(duration=TIMEOUT_MS)
    finally:
        result.client.close()  # the stock runner never closes its client
    return result


class WriteLines(beam.DoFn):
    """A sink: each bundle writes its elements as JSON lines to a file of its own in ``folder``."""

    def __init__(self, folder: str) -> None:
        self.folder = folder

    def start_bundle(self) -> None:
        self.lines: list[str] = []

    def process(self, element):
        self.lines.append(json.dumps(element))

    def finish_bundle(self) -> None:
        Path(self.folder).mkdir(parents=True, exist_ok=True)
        Path(self.folder, f"{uuid.uuid4().hex}.jsonl").write_text("".join(f"{line}\n" for line in self.lines))


def written(folder: Path) -> list:
    return sorted(json.loads(line) for f in folder.glob("*.jsonl") for line in f.read_text().splitlines())


def split_even_odd(n: int):
    yield beam.pvalue.TaggedOutput("odd", n) if n % 2 else n


@pytest.mark.parametrize("runner_class", RUNNERS)
def test_each_consumer_of_a_multi_output_pardo_gets_only_its_own_output(runner_class, cluster_address, tmp_path):
    def build(p):
        parts = p | beam.Create(range(200)) | beam.FlatMap(split_even_odd).with_outputs("odd", main="even")
        even = parts.even | "LabelEven" >> beam.Map(lambda n: ["even", n])
        odd = parts.odd | "LabelOdd" >> beam.Map(lambda n: ["odd", n])
        (even, odd) | beam.Flatten() | beam.ParDo(WriteLines(str(tmp_path / "out")))

    run(runner_class, build, cluster_address)
    assert written(tmp_path / "out") == sorted([["even", n] for n in range(0, 200, 2)] + [["odd", n] for n in range(1, 200, 2)])


@pytest.mark.parametrize("runner_class", RUNNERS)
def test_output_emitted_in_finish_bundle_is_kept(runner_class, cluster_address, tmp_path):
    def build(p):
        (
            p
            | beam.Create(range(300))
            | beam.BatchElements(min_batch_size=7, max_batch_size=7)
            | beam.FlatMap(lambda batch: batch)
            | beam.ParDo(WriteLines(str(tmp_path / "out")))
        )

    run(runner_class, build, cluster_address)
    assert written(tmp_path / "out") == list(range(300))


@pytest.mark.parametrize("runner_class", RUNNERS)
def test_every_sink_runs_not_only_the_last_one(runner_class, cluster_address, tmp_path):
    def build(p):
        numbers = p | beam.Create(range(50))
        numbers | "First" >> beam.ParDo(WriteLines(str(tmp_path / "first")))
        numbers | beam.Map(lambda n: n * 10) | "Second" >> beam.ParDo(WriteLines(str(tmp_path / "second")))

    run(runner_class, build, cluster_address)
    assert written(tmp_path / "first") == list(range(50))
    assert written(tmp_path / "second") == [n * 10 for n in range(50)]


class RecordEachCall(beam.DoFn):
    """Passes elements through, leaving one file per element processed: how often the step really ran."""

    def __init__(self, folder: str) -> None:
        self.folder = folder

    def process(self, element):
        Path(self.folder).mkdir(parents=True, exist_ok=True)
        Path(self.folder, uuid.uuid4().hex).touch()
        yield element


@pytest.mark.parametrize("runner_class", RUNNERS)
def test_a_side_input_is_computed_once_for_all_its_consumers(runner_class, cluster_address, tmp_path):
    def build(p):
        side = p | "Side" >> beam.Create(range(5)) | "Once" >> beam.ParDo(RecordEachCall(str(tmp_path / "calls")))
        first = p | "Main" >> beam.Create(range(40)) | "AddOnce" >> beam.Map(lambda n, s: n + sum(s), beam.pvalue.AsList(side))
        first | "AddTwice" >> beam.Map(lambda n, s: n + sum(s), beam.pvalue.AsList(side)) | beam.ParDo(WriteLines(str(tmp_path / "out")))

    run(runner_class, build, cluster_address)
    assert written(tmp_path / "out") == [n + 20 for n in range(40)]
    assert len(list((tmp_path / "calls").iterdir())) == 5


class CountEvens(beam.DoFn):
    def process(self, n):
        if n % 2 == 0:
            beam.metrics.Metrics.counter("test", "evens").inc()
        yield n


@pytest.mark.parametrize("runner_class", RUNNERS)
def test_counters_incremented_in_dofns_are_reported(runner_class, cluster_address):
    result = run(runner_class, lambda p: p | beam.Create(range(101)) | beam.ParDo(CountEvens()), cluster_address)
    (counter,) = result.metrics().query(MetricsFilter().with_name("evens"))["counters"]
    assert counter.committed == 51


@pytest.mark.parametrize("runner_class", RUNNERS)
def test_read_from_text_reads_every_line(runner_class, cluster_address, tmp_path):
    source = tmp_path / "in.txt"
    source.write_text("".join(f"line {i}\n" for i in range(30)))
    run(runner_class, lambda p: p | beam.io.ReadFromText(str(source)) | beam.ParDo(WriteLines(str(tmp_path / "out"))), cluster_address)
    assert written(tmp_path / "out") == sorted(f"line {i}" for i in range(30))


class SetUpOnce(beam.DoFn):
    """Tags each element with the DoFn instance (made in ``setup``) that processed it."""

    def setup(self) -> None:
        self.instance = f"{os.getpid()}-{uuid.uuid4().hex}"

    def process(self, n):
        yield self.instance


@pytest.mark.parametrize("runner_class", RUNNERS)
def test_a_dofn_is_set_up_once_per_worker_thread_not_once_per_partition(runner_class, cluster_address, tmp_path):
    def build(p):
        p | beam.Create(range(80)) | beam.ParDo(SetUpOnce()) | beam.ParDo(WriteLines(str(tmp_path / "out")))

    run(runner_class, build, cluster_address, partitions=8)
    assert len(set(written(tmp_path / "out"))) <= 2  # 2 workers, 1 thread each


def test_the_shuffle_hash_is_stable_across_processes():
    """Python's ``hash(str)`` differs per process; a shuffle key must land in the same partition on every worker."""
    import subprocess
    import sys

    code = "from newswatch.pipelines.dask_runner import stable_hash as h; print(h('story-1'), h(b'x'), h(('a', 1)))"
    env = dict(os.environ)
    outs = set()
    for seed in ("1", "2"):
        env["PYTHONHASHSEED"] = seed
        outs.add(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout)
    assert outs == {f"{stable_hash('story-1')} {stable_hash(b'x')} {stable_hash(('a', 1))}\n"}


class AddOffset(beam.DoFn):
    def __init__(self, offset: int) -> None:
        self.offset = offset

    def setup(self) -> None:
        self.ready_offset = self.offset  # what a model or client made in setup would hold

    def process(self, n):
        yield n + self.ready_offset


def test_a_dofn_changed_between_runs_is_set_up_again_not_reused(cluster_address, tmp_path):
    """Workers keep set-up DoFns between runs, but only while the DoFn is the same (same settings, same rules)."""
    for offset in (100, 200):
        out = tmp_path / str(offset)
        run(
            DaskRunner,
            lambda p, o=offset, d=out: p | beam.Create(range(20)) | "Add" >> beam.ParDo(AddOffset(o)) | beam.ParDo(WriteLines(str(d))),
            cluster_address,
        )
        assert written(out) == [n + offset for n in range(20)]
