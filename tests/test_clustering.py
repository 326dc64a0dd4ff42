"""Near-duplicate clustering in Beam: copies join the first story's cluster, chains included."""

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline as BeamPipeline
from apache_beam.testing.util import assert_that, equal_to

from newswatch.pipelines.dedup import band_keys
from newswatch.pipelines.pipeline import ClusterNearDuplicates

BASE = list(range(1000, 1128))


def article(aid: str, sig: list[int], published: str) -> dict:
    return {"id": aid, "minhash": sig, "minhash_bands": band_keys(sig, 32), "shingles": 10, "published_at": published,
            "cluster": {"id": aid, "duplicate_of": None, "similarity": None}}  # fmt: skip


def changed(sig: list[int], positions: range, salt: int) -> list[int]:
    return [v + salt if i in positions else v for i, v in enumerate(sig)]


def test_a_copy_and_a_copy_of_the_copy_join_the_first_story():
    a = article("a", BASE, "2020-09-13T10:00:00+00:00")
    b_sig = changed(BASE, range(0, 38), 10_000)  # 70 % like a
    b = article("b", b_sig, "2020-09-13T11:00:00+00:00")
    c = article("c", changed(b_sig, range(90, 128), 20_000), "2020-09-13T12:00:00+00:00")  # 70 % like b, 40 % like a
    other = article("x", [v + 50_000 for v in BASE], "2020-09-13T09:00:00+00:00")
    with BeamPipeline(runner="DirectRunner") as p:
        out = p | beam.Create([c, a, other, b]) | ClusterNearDuplicates(0.7) | beam.Map(lambda r: (r["id"], r["cluster"]["id"]))
        assert_that(out, equal_to([("a", "a"), ("b", "a"), ("c", "a"), ("x", "x")]))
