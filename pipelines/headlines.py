"""What the headline names: the story's subject, whom the body may name in a longer or shorter form.

Headlines are not given to the model (their Title Case makes it see names everywhere), but a run
of capitalised headline words that the body also writes is a name ("Brock Holt"), also when the
body adds middle names ("Jared Tristan Padalecki" for "Jared Padalecki"). Bare surnames join it
(``coref``), and when the model missed it in the body it is an actor all the same.
"""

from __future__ import annotations

import re

from newswatch.pipelines.context import everyday_phrase, stands_alone
from newswatch.pipelines.coref import Resolved
from newswatch.pipelines.names import NameRules, clean_name

_HEADLINE_RUN = re.compile(r"[A-Z][\w'.-]*(?:\s+(?:of|de|von|van|da|the|[A-Z][\w'.-]*))*\s+[A-Z][\w'.-]*")


def names_in_headline(title: str, text: str) -> dict[str, int]:
    """Runs of two to four capitalised headline words that the body also writes: full names ("Brock Holt"),
    also with middle names there ("Zaha Hadid" for "Dame Zaha Mohammad Hadid DBE")."""
    found = {}
    for run in _HEADLINE_RUN.findall(title) if title and text else ():
        words = run.split()
        for size in range(min(4, len(words)), 1, -1):
            for i in range(len(words) - size + 1):
                name = " ".join(words[i : i + size])
                if words[i + size - 1][0].isupper() and (at := in_body(name, text)) >= 0:
                    found.setdefault(name, at)
    return found


def missed_headline_names(
    headline_names: dict[str, int], resolved: list[Resolved], tagged: list[tuple[int, int]], names: NameRules,
    org_words: frozenset[str], text: str, lower_words: frozenset[str],
) -> list[Resolved]:  # fmt: skip
    """Names the headline gives and the body writes that the model did not tag ("Aner Shalev", "The Onion").

    A person when the body also uses the last word alone ("Shalev said") or the model tagged a person
    inside it ("Marrowby" of "Ilse Marrowby"), else an organisation.
    Titles ("Governor of Virginia"), everyday words ("Senior Editor": the body writes them in lower
    case too), what the model tagged there as something else ("Election Day", a date: ``tagged``
    holds the spans of all its entities) and parts of names already found are left out.
    """
    found: list[Resolved] = []
    for form, at in sorted(headline_names.items(), key=lambda kv: -len(kv[0])):
        name = clean_name(form, names)
        padded = f" {name} "
        if not form[0].isupper() or form.lower().startswith(tuple(t + " " for t in names.titles)) or not name[-1:].isalpha():
            continue
        if everyday_phrase(name.lower(), lower_words) or any(start <= at < end for start, end in tagged if "\n\n" not in text[start:end]):
            continue  # (a span across a paragraph break is the model's slip, not a reading of the name)
        if any(padded in f" {r.name} " or r.start <= at < r.start + len(r.surface) for r in (*resolved, *found)):
            continue  # already an actor, or the model tagged it there ("Antonín Leopold Dvořák")
        words = name.split()
        alone = len(re.findall(rf"(?<![\w-]){re.escape(words[-1])}(?![\w-])", text)) > len(re.findall(re.escape(name), text))
        end = text.find(words[-1], at) + len(words[-1])
        partly_a_person = any(r.label == "PERSON" and at <= r.start < end for r in resolved)  # the model saw "Marrowby" in it
        person = len(words) > 1 and (alone or partly_a_person) and not set(name.lower().split()) & org_words
        found.append(Resolved(name, "PERSON" if person else "ORG", at, form, False))
    return found


def in_body(name: str, text: str) -> int:
    """Where the body writes a headline's name: as it stands, or with middle names ("Jared Tristan Padalecki")."""
    at = text.find(name)
    if at >= 0 and stands_alone(text, at, at + len(name)):
        return at
    first, *_, last = name.split()
    middle = re.search(rf"(?<![\w-]){re.escape(first)}(?:\s+[A-Z][\w.'-]*){{1,2}}\s+{re.escape(last)}(?![\w-])", text)
    return middle.start() if middle and " " in name else -1
