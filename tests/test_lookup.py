"""A copy of an indexed story is found across runs however many indexed articles share a band with it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from elasticsearch import helpers

from newswatch.pipelines import lookup
from newswatch.pipelines.dedup import band_keys, fingerprint, sketch
from newswatch.store import connect, ensure_indices


def hours_ago(h: float) -> str:
    return (datetime.now(UTC) - timedelta(hours=h)).isoformat()


STORY = " ".join(f"word{i} sentence{i % 7} of the harbour bank story number {i}" for i in range(60))


def article(aid: str, text: str, published_at: str, bands: list[str] | None = None) -> dict:
    sig, shingles = sketch(text, 128)
    return {
        "id": aid, "fingerprint": fingerprint(text), "minhash": sig, "shingles": shingles,
        "minhash_bands": bands or band_keys(sig, 32), "published_at": published_at, "ingested_at": published_at,
        "source": "Wire", "cluster": {"id": aid},
    }  # fmt: skip


def test_a_copy_is_found_even_when_many_older_articles_share_a_band_with_it(es_settings):
    es = connect(es_settings)
    ensure_indices(es, es_settings)
    copy = article("copy", STORY + " syndicated", hours_ago(1))
    shared_band = copy["minhash_bands"][0]
    # 80 older articles about something else that happen to share one band key (recurring boilerplate)
    decoys = [article(f"decoy{i}", f"unrelated text number {i} " * 30, hours_ago(100 + i), [shared_band])
              for i in range(80)]  # fmt: skip
    original = article("original", STORY, hours_ago(20))
    helpers.bulk(es, ({"_index": es_settings.articles_alias, "_id": d["id"], "_source": d} for d in [*decoys, original]), refresh=True)

    [joined] = lookup.resolve(es, es_settings, [copy])
    assert joined["cluster"]["id"] == "original" and joined["cluster"]["duplicate_of"] == "original"


def test_of_several_indexed_copies_the_earliest_published_is_the_story(es_settings):
    es = connect(es_settings)
    ensure_indices(es, es_settings)
    first, second = article("first", STORY, hours_ago(30)), article("second", STORY + " again", hours_ago(20))
    helpers.bulk(es, ({"_index": es_settings.articles_alias, "_id": d["id"], "_source": d} for d in [second, first]), refresh=True)

    [joined] = lookup.resolve(es, es_settings, [article("third", STORY + " once more", hours_ago(1))])
    assert joined["cluster"]["duplicate_of"] == "first"
