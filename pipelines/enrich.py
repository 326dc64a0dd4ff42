"""From a raw feed item to an enriched article: the plain functions every stage calls.

``prepare`` cleans and identifies an item (no model needed); ``Tagger`` adds actors and topics with a
spaCy model loaded once. The Beam DoFns and the ``newswatch tag`` command share these, so what a user
checks by hand is exactly what the pipeline indexes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import spacy
from spacy.language import Language

from newswatch.pipelines import dedup
from newswatch.pipelines.actors import ActorRules, Mention, canonical_actors, confident_names
from newswatch.pipelines.clean import clean_text, clean_title, normalise
from newswatch.pipelines.deadletter import SHOWN_CHARS, feed_url, item_key
from newswatch.pipelines.fulltext import FullTextError, fetch_full_text
from newswatch.pipelines.language import detect_language
from newswatch.pipelines.topics import RuleTopicTagger
from newswatch.pipelines.urls import InvalidURLError, article_id, canonical_url, is_http_url, stable_id
from newswatch.pipelines.watchlist import Rule, entity_aliases, load_rules, with_canonical_names
from newswatch.settings import Settings

log = logging.getLogger(__name__)
FUTURE_TOLERANCE = timedelta(hours=6)


class ItemError(ValueError):
    """A feed item that cannot become an article; the message names the feed and the item, then the reason."""

    def __init__(self, item: dict, reason: str) -> None:
        super().__init__(f"{describe(item)}: {reason}")
        self.reason = reason


def describe(item: dict) -> str:
    """The feed and the item (its guid or link, cut short: a feed may send anything there)."""
    key = item_key(item)
    return f"feed {feed_url(item)[:SHOWN_CHARS]} item {key[:SHOWN_CHARS] + ('…' if len(key) > SHOWN_CHARS else '')!r}"


def _identity(item: dict, settings: Settings) -> tuple[str, str | None]:
    """The item's link and guid, checked before anything looks them up: bounded, and links only http(s)."""
    link = str(item.get("link") or "").strip()
    guid = str(item.get("guid") or "").strip() or None
    for name, value in (("link", link), ("guid", guid or "")):
        if len(value) > settings.max_url_chars:
            raise ItemError(item, f"{name} of {len(value)} characters exceeds max_url_chars={settings.max_url_chars}")
    if link and not is_http_url(link):
        raise ItemError(item, f"link {link[:SHOWN_CHARS]!r} is not an absolute http(s) URL")
    return link, guid


def prepare(item: dict, detector: Any, settings: Settings, now: datetime | None = None) -> dict:
    """Clean, identify and date one raw item; raises ``ItemError`` when it has nothing to identify it."""
    now = now or datetime.now(UTC)
    feed = item.get("feed") or {}
    link, guid = _identity(item, settings)
    source = normalise(str(feed.get("source") or feed.get("title") or ""))[: settings.max_field_chars] or "unknown"
    try:
        canonical = canonical_url(link or guid or "")
        aid = article_id(canonical)
    except InvalidURLError:
        if not guid:
            raise ItemError(item, "no usable link or guid") from None
        canonical, aid = f"urn:newswatch:{feed.get('id', '')}:{guid}", stable_id("guid", feed.get("id", ""), guid)
    body = item.get("content") or item.get("summary") or ""
    text, truncated = clean_text(body, settings.max_text_chars)
    if (settings.fulltext_enabled or feed.get("full_text")) and len(text.split()) < settings.fulltext_min_words and link:
        text, truncated = _with_full_text(link, text, settings, item)
    title = clean_title(item.get("title") or "")[: settings.max_field_chars]
    if not text and not title:
        raise ItemError(item, "no title and no text")
    published, trusted = _published(item.get("published") or item.get("updated"), now)
    lang = detect_language(detector, f"{title}\n{text}", feed.get("language"), settings.language_min_confidence)
    tokens = dedup.words(f"{title}\n{text}")
    sig, shingle_count = dedup.sketch(tokens, settings.minhash_permutations)
    return {
        "id": aid,
        "url": link or canonical,
        "canonical_url": canonical,
        "guid": guid,
        "source": source,
        "feed": {"id": feed.get("id", ""), "url": feed.get("url", ""), "title": feed.get("title"), "tags": feed.get("tags", [])},
        "title": title,
        "text": text,
        "text_truncated": truncated,
        "summary": clean_title(item.get("summary") or "")[: settings.max_field_chars] or None,
        "authors": _bounded(item.get("authors"), settings),
        "categories": _bounded(item.get("categories"), settings),
        "language": lang.language,
        "language_confidence": lang.confidence,
        "language_source": lang.source,
        # A date too far in the future is not trusted: the article counts as published when it was seen.
        "published_at": published.isoformat() if published and trusted else (item.get("fetched_at") if published else None),
        "published_at_trusted": trusted,
        "published_at_claimed": published.isoformat() if published and not trusted else None,
        "ingested_at": (item.get("fetched_at") or now.isoformat()),
        "actors": [],
        "actor_names": [],
        "topics": [],
        "fingerprint": dedup.fingerprint(tokens),
        "minhash": sig,
        "shingles": shingle_count,
        "minhash_bands": dedup.band_keys(sig, settings.minhash_bands),
        "cluster": {"id": aid, "duplicate_of": None, "similarity": None, "sources": [source], "copies": 0},
        "ner": {"status": "pending", "model": None},
        "watch": [],
    }


def _bounded(values: list | None, settings: Settings) -> list[str]:
    """Feed-supplied lists are cut to ``max_list_items`` strings of at most ``max_field_chars``."""
    return [str(v)[: settings.max_field_chars] for v in (values or [])[: settings.max_list_items]]


def _with_full_text(link: str, text: str, settings: Settings, item: dict) -> tuple[str, bool]:
    """The page's main text when it can be had; otherwise the feed's text, with the reason logged."""
    try:
        return clean_text(fetch_full_text(link, settings), settings.max_text_chars)
    except FullTextError as exc:
        log.warning("%s: full text not fetched: %s", describe(item), exc)
        return text, False


def _published(value: str | None, now: datetime) -> tuple[datetime | None, bool]:
    if not value:
        return None, False
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        return None, False
    dt = dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
    if dt > now + FUTURE_TOLERANCE:
        return dt, False
    return dt, True


def sort_key(article: dict) -> tuple[str, str]:
    """Which copy of a story came first: the earliest publication, then the smallest id."""
    return (article.get("published_at") or article.get("ingested_at") or "~", article["id"])


@dataclass(frozen=True)
class Knowledge:
    """The editable rules (actor aliases, topics, watchlists), read once by the driver and shipped to workers.

    Workers never read these files themselves: on a cluster they may not have them.
    """

    actor_rules: ActorRules
    topics: RuleTopicTagger
    rules: list[Rule]

    @classmethod
    def load(cls, settings: Settings) -> Knowledge:
        rules = load_rules(settings)
        actor_rules = ActorRules.from_file(settings.aliases_file, entity_aliases(rules))
        return cls(
            actor_rules=actor_rules,
            topics=RuleTopicTagger.from_file(settings.taxonomy_file),
            rules=with_canonical_names(rules, actor_rules.canonical),
        )


@dataclass
class Models:
    """What a worker loads once in ``setup``: spaCy models per language."""

    models: dict[str, Language]
    names: dict[str, str]

    @classmethod
    def load(cls, settings: Settings) -> Models:
        return cls({lang: load_ner_model(name) for lang, name in settings.model_for.items()}, settings.model_for)


def load_ner_model(name: str) -> Language:
    """A spaCy pipeline with only what NER needs; the name is a setting, and a wrong one says so."""
    try:
        nlp = spacy.load(name)
    except OSError as exc:
        raise ValueError(f"spaCy model {name!r} (setting spacy_model/spacy_models) is not installed: {exc}") from exc
    if "ner" not in nlp.pipe_names:
        raise ValueError(f"spaCy model {name!r} has no 'ner' component")
    keep = ner_components(nlp)
    for unused in [n for n in reversed(nlp.pipe_names) if n not in keep]:
        nlp.remove_pipe(unused)  # removed, not disabled: their weights leave the worker's memory
    return nlp


def ner_components(nlp: Language) -> list[str]:
    """``ner`` and the components it listens to, in pipeline order.

    spaCy's small, medium and large English models give ``ner`` its own embedding layer: their shared
    ``tok2vec`` feeds only the tagger and parser, and running it for NER costs a quarter of the model's
    time for the same entities. A pipeline whose ``ner`` does listen (a transformer model) keeps that layer.
    """
    feeding = {n for n, pipe in nlp.pipeline if "ner" in getattr(pipe, "listening_components", ())}
    return [n for n in nlp.pipe_names if n == "ner" or n in feeding]


def tag_batch(articles: list[dict], models: Models, knowledge: Knowledge, batch_size: int = 64) -> list[dict]:
    """Actors (spaCy, batched per language) and topics for a batch of articles."""
    by_lang: dict[str | None, list[dict]] = {}
    for a in articles:
        by_lang.setdefault(a.get("language"), []).append(a)
    for lang, group in by_lang.items():
        nlp = models.models.get(lang) if lang else None
        if nlp is None:
            for a in group:
                a["ner"] = {"status": "no model for language", "model": None}
        else:
            texts = [a["text"] or a["title"] for a in group]  # the body; the headline only when there is none
            for a, text, doc in zip(group, texts, nlp.pipe(texts, batch_size=batch_size), strict=True):
                mentions = [Mention(e.text, e.label_, e.start_char) for e in doc.ents]
                # the text, not doc.text: that one is rebuilt token by token (a third of the rules' time)
                a["actors"] = canonical_actors(mentions, knowledge.actor_rules, a["title"] if a["text"] else "", text)
                a["ner"] = {"status": "tagged", "model": models.names[lang]}
        for a in group:
            a["topics"] = knowledge.topics(f"{a['title']}\n\n{a['text']}", a["actors"])
            a["actor_names"] = confident_names(a["actors"])
    return articles
