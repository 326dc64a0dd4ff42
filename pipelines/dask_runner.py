"""Beam's DaskRunner (apache-beam 2.77), with the fixes a real pipeline needs; select it with ``--runner=`` this class.

The stock runner (``apache_beam.runners.dask``) translates each Beam transform into a ``dask.bag``
operation. On a multi-stage pipeline it silently gives wrong results; each fix below is small,
self-contained and covered by a test in tests/test_dask_runner.py that fails on the stock runner:

1. Per-tag outputs: a ParDo with ``with_outputs`` sent every output to every consumer. Here a bundle
   returns its outputs by tag and each consumer selects its own tag.
2. ``finish_bundle`` output was dropped (BatchElements lost its last batch). Here it is kept.
3. Only the last transform of the graph was computed: a second sink never ran. Here every leaf and
   every ParDo is computed in one ``client.compute`` (shared tasks run once).
4. Side inputs were recomputed inside each consuming task. Here they are graph dependencies
   (``to_delayed(optimize_graph=False)``), computed once.
5. ``result.metrics()`` raised; counters were lost. Here each bundle returns its counters, merged.
6. ``beam.io.ReadFromText`` (a ``Read`` of a bounded source) had no translation and failed.
7. DoFns were set up and torn down once per partition (a spaCy model loaded per partition). Here a
   worker keeps set-up DoFn instances in a pool, one per concurrent bundle, as Beam's own runners do.
8. The shuffle hashed keys with ``tokenize`` (about 45 % of a GroupByKey's time); string and bytes keys
   now use CRC32, stable across processes. The shuffle also keeps ``--dask_npartitions`` partitions, so a
   run over a few raw files still spreads over every worker after the first GroupByKey.
"""

from __future__ import annotations

import collections
import dataclasses
import hashlib
import re
import threading
import zlib
from collections.abc import Iterable
from typing import Any

import dask
import dask.bag as db
import dask.distributed as ddist
from apache_beam import DoFn, pvalue
from apache_beam import ParDo as BeamParDo
from apache_beam.internal import pickler
from apache_beam.metrics.execution import MetricKey, MetricResult, MetricsContainer
from apache_beam.metrics.metric import MetricResults
from apache_beam.pipeline import AppliedPTransform, PipelineVisitor
from apache_beam.runners.common import DoFnContext, DoFnInvoker, DoFnSignature, Receiver, _OutputHandler
from apache_beam.runners.dask import dask_runner as stock
from apache_beam.runners.dask.overrides import _GroupByKeyOnly, _Read, dask_overrides
from apache_beam.runners.dask.transform_evaluator import TRANSLATIONS, Flatten, NoOp, defenestrate, get_windowed_value
from apache_beam.runners.runner import PipelineState
from apache_beam.runners.worker import statesampler
from apache_beam.transforms.sideinputs import SideInputMap
from apache_beam.transforms.window import GlobalWindows
from apache_beam.utils import counters
from apache_beam.utils.windowed_value import WindowedValue
from dask.base import tokenize

POOL_STEPS = 64  # steps whose DoFns a worker keeps set up; the least recently used step's are torn down


# --- 8. the shuffle ---------------------------------------------------------------------------------


def stable_hash(key: Any) -> int:
    """A hash that is the same in every worker process (unlike ``hash(str)``) and cheap for common keys."""
    if isinstance(key, str):
        return zlib.crc32(key.encode("utf-8", "surrogatepass"))
    if isinstance(key, bytes):
        return zlib.crc32(key)
    if isinstance(key, int) and not isinstance(key, bool):
        return key & 0xFFFFFFFF
    return int(tokenize(key), 16)


def _key_value(item: Any) -> tuple:
    k, v = defenestrate(item)
    return k, defenestrate(v)


def _first(kv: tuple) -> Any:
    return kv[0]


def _values(group: tuple) -> tuple:
    return group[0], [v for _, v in group[1]]


# --- 7. set-up DoFns, kept per worker ----------------------------------------------------------------


class _DoFnPool:
    """Set-up DoFn instances by step: a bundle borrows one and gives it back when it succeeded.

    A worker keeps only the latest version of each step's DoFn (its pickled bytes' digest): a changed
    DoFn (new settings or rules) replaces the old instances, which are torn down, so a long-lived
    worker holds at most one generation of models per step (and per concurrent bundle).
    """

    def __init__(self, max_steps: int) -> None:
        self.max_steps = max_steps
        self.idle: collections.OrderedDict[str, tuple[str, list[DoFn]]] = collections.OrderedDict()
        self.lock = threading.Lock()

    def borrow(self, step: str, digest: str, fn_bytes: bytes) -> DoFn:
        with self.lock:
            version, idle = self.idle.get(step, ("", []))
            if version == digest and idle:
                self.idle.move_to_end(step)
                return idle.pop()
        fn = pickler.loads(fn_bytes)
        fn.setup()
        return fn

    def give_back(self, step: str, digest: str, fn: DoFn) -> None:
        stale: list[DoFn] = []
        with self.lock:
            version, idle = self.idle.get(step, (digest, []))
            if version != digest:
                stale, idle = idle, []
            idle.append(fn)
            self.idle[step] = (digest, idle)
            self.idle.move_to_end(step)
            while len(self.idle) > self.max_steps:
                stale += self.idle.popitem(last=False)[1][1]
        for old in stale:
            old.teardown()


_POOL = _DoFnPool(POOL_STEPS)


# --- 1, 2, 4, 5: one bundle of a ParDo ----------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _ParDoSpec:
    """What a worker needs to run a ParDo bundle: the pickled DoFn (set up once per worker) and its arguments."""

    label: str
    fn_key: str
    fn_bytes: bytes
    args: tuple
    kwargs: dict
    window_fn: Any
    side_views: tuple  # (view class, view options, window mapping fn) per side input


@dataclasses.dataclass
class _Bundle:
    outputs: dict[str | None, list[WindowedValue]]
    counters: dict[MetricKey, int]


@dataclasses.dataclass
class _CollectingReceiver(Receiver):
    values: list

    def receive(self, windowed_value: WindowedValue) -> None:
        self.values.append(windowed_value)


class _ByTag(dict):
    def __missing__(self, tag):
        receiver = self[tag] = _CollectingReceiver([])
        return receiver


def _run_bundle(items: Iterable, spec: _ParDoSpec, *side_values: list) -> list[_Bundle]:
    """One partition = one bundle: start, process every element, finish (its output kept), counters returned."""
    side_inputs = [
        SideInputMap(view, options, [get_windowed_value(v, mapping) for v in values])
        for (view, options, mapping), values in zip(spec.side_views, side_values, strict=True)
    ]
    receivers = _ByTag()
    container = MetricsContainer(spec.label)
    previous = statesampler.get_current_tracker()
    sampler = statesampler.StateSampler(spec.label, counters.CounterFactory())
    statesampler.set_current_tracker(sampler)
    fn = _POOL.borrow(spec.label, spec.fn_key, spec.fn_bytes)
    try:
        with sampler.scoped_state(spec.label, "process", metrics_container=container):
            invoker = DoFnInvoker.create_invoker(
                DoFnSignature(fn),
                _OutputHandler(spec.window_fn, receivers[None], receivers, None, None, False, False),
                context=DoFnContext(spec.label, state=None),
                side_inputs=side_inputs,
                input_args=list(spec.args),
                input_kwargs=dict(spec.kwargs),
                user_state_context=None,
                bundle_finalizer_param=DoFn.BundleFinalizerParam(),
            )
            invoker.invoke_start_bundle()
            for item in items:
                invoker.invoke_process(get_windowed_value(item, spec.window_fn))
            invoker.invoke_finish_bundle()
    except BaseException:
        fn.teardown()  # a failed DoFn is not reused
        raise
    finally:
        statesampler.set_current_tracker(previous)
    _POOL.give_back(spec.label, spec.fn_key, fn)
    outputs = {tag: r.values for tag, r in receivers.items()}
    return [_Bundle(outputs, dict(container.get_cumulative().counters))]


def _select(bundles: list[_Bundle], tag: str | None) -> list:
    return [v for b in bundles for v in b.outputs.get(tag, ())]


def _counters(bundles: list[_Bundle]) -> list[dict]:
    return [b.counters for b in bundles]


def _concat(parts: list[list]) -> list:
    return [v for part in parts for v in part]


def _sizes(items: Iterable) -> list[int]:
    return [sum(1 for _ in items)]


@dataclasses.dataclass
class _Outputs:
    """A ParDo's bundles; ``bag(tag)`` is one output, ``counters`` the bag of per-bundle counters."""

    bundles: db.Bag
    name: str

    def bag(self, tag: str | None) -> db.Bag:
        return self.bundles.map_partitions(_select, tag, token=f"{self.name}.{tag or 'main'}")

    @property
    def counters(self) -> db.Bag:
        return self.bundles.map_partitions(_counters, token=f"{self.name}.counters")


def _translate_pardo(applied: AppliedPTransform, input_bag: db.Bag, side_bags: list[db.Bag]) -> _Outputs:
    transform = applied.transform
    main_input = next(iter(applied.main_inputs.values()))
    fn_bytes = pickler.dumps(transform.fn)
    spec = _ParDoSpec(
        label=applied.full_label,
        fn_key=hashlib.blake2b(fn_bytes, digest_size=16).hexdigest(),
        fn_bytes=fn_bytes,
        args=tuple(transform.args),
        kwargs=dict(transform.kwargs),
        # A replaced Read (fix 6) has no windowing of its own: bounded reads are globally windowed.
        window_fn=main_input.windowing.windowfn if hasattr(main_input, "windowing") else GlobalWindows(),
        side_views=tuple((type(si), si._view_options(), si._window_mapping_fn) for si in applied.side_inputs),
    )
    sides = [dask.delayed(_concat)(bag.to_delayed(optimize_graph=False)) for bag in side_bags]
    name = re.sub(r"\W+", "_", applied.full_label)  # task names say which step they run (dashboard, logs)
    return _Outputs(input_bag.map_partitions(_run_bundle, spec, *sides, token=name), name)


# --- 6: Read of a bounded source ----------------------------------------------------------------------


def _read_splits(splits: Iterable) -> list:
    return [v for s in splits for v in s.source.read(s.source.get_range_tracker(s.start_position, s.stop_position))]


def _translate_read(applied: AppliedPTransform, npartitions: int | None) -> db.Bag:
    splits = list(applied.transform.source.split(desired_bundle_size=64 * 1024 * 1024))
    return db.from_sequence(splits, npartitions=max(1, min(len(splits), npartitions or len(splits)))).map_partitions(_read_splits)


# --- 3: the whole graph, computed once -----------------------------------------------------------------


class _Translator(PipelineVisitor):
    """Beam leaf transforms -> dask bags, resolving each input by (producer, tag)."""

    def __init__(self, bag_kwargs: dict) -> None:
        self.bag_kwargs = bag_kwargs
        self.results: dict[AppliedPTransform, Any] = {}
        self.consumed: set[AppliedPTransform] = set()

    def bag_of(self, pcoll: pvalue.PValue) -> db.Bag | None:
        produced = self.results.get(pcoll.producer)
        self.consumed.add(pcoll.producer)
        return produced.bag(pcoll.tag) if isinstance(produced, _Outputs) else produced

    def visit_transform(self, node: AppliedPTransform) -> None:
        inputs = [self.bag_of(i) for i in node.inputs if not isinstance(i, pvalue.PBegin)]
        kind = node.transform.__class__
        if kind is BeamParDo:
            result: Any = _translate_pardo(node, inputs[0], [self.bag_of(si.pvalue) for si in node.side_inputs])
        elif kind is _GroupByKeyOnly:
            result = self.group_by_key(inputs[0])
        elif kind is _Read:
            result = _translate_read(node, self.bag_kwargs.get("npartitions"))
        else:
            op = TRANSLATIONS.get(kind, NoOp)(node, bag_kwargs=self.bag_kwargs)
            result = op.apply(input_bag=inputs if op.__class__ is Flatten else (inputs[0] if inputs else None), side_inputs=None)
        self.results[node] = result

    def group_by_key(self, bag: db.Bag) -> db.Bag:
        npartitions = self.bag_kwargs.get("npartitions")
        if npartitions and bag.npartitions < npartitions:
            bag = bag.repartition(npartitions)
        return db.core.groupby_tasks(bag.map(_key_value), _first, hash=stable_hash).map(_values)

    def targets(self) -> tuple[list[db.Bag], list[db.Bag]]:
        """(counter bags of every ParDo, size bags of the other transforms nobody consumes)."""
        counter_bags = [r.counters for r in self.results.values() if isinstance(r, _Outputs)]
        leaves = [r.map_partitions(_sizes) for n, r in self.results.items() if isinstance(r, db.Bag) and n not in self.consumed]
        return counter_bags, leaves


class DaskMetrics(MetricResults):
    """Counters merged over every bundle that succeeded (so they are committed values)."""

    def __init__(self, merged: dict[MetricKey, int]) -> None:
        self.merged = merged

    def query(self, filter=None) -> dict[str, list[MetricResult]]:
        found = [MetricResult(k, v, v) for k, v in self.merged.items() if self.matches(filter, k)]
        empty = (self.DISTRIBUTIONS, self.GAUGES, self.STRINGSETS, self.BOUNDED_TRIES, self.HISTOGRAMS)
        return {self.COUNTERS: found, **{kind: [] for kind in empty}}


@dataclasses.dataclass
class DaskRunnerResult(stock.DaskRunnerResult):
    counter_futures: list = dataclasses.field(default_factory=list)
    merged: dict = dataclasses.field(default_factory=dict)
    owns_client: bool = True

    def wait_until_finish(self, duration=None) -> str:
        try:
            super().wait_until_finish(duration)
            for future in self.counter_futures:
                for bundle_counters in future.result():
                    for key, value in bundle_counters.items():
                        self.merged[key] = self.merged.get(key, 0) + value
        finally:
            if self.owns_client and self._state in (PipelineState.DONE, PipelineState.FAILED):
                self.client.close()
        return self._state

    def metrics(self) -> DaskMetrics:
        return DaskMetrics(self.merged)


class DaskRunner(stock.DaskRunner):
    """Drop-in replacement: the same options (``--dask_client_address``, ``--dask_npartitions``, ...)."""

    def run_pipeline(self, pipeline, options):
        dask_options = options.view_as(stock.DaskOptions).get_all_options(drop_default=True, current_only=True)
        bag_kwargs = stock.DaskOptions._extract_bag_kwargs(dask_options)
        client = ddist.Client(**dask_options)
        pipeline.replace_all(dask_overrides())
        translator = _Translator(bag_kwargs)
        pipeline.visit(translator)
        counter_bags, leaves = translator.targets()
        futures = client.compute([*counter_bags, *leaves])
        return DaskRunnerResult(client, futures, counter_futures=futures[: len(counter_bags)])
