"""Near duplicates: an edited copy is close, a different story on the same subject is not."""

from newswatch.pipelines.clean import clean_text
from newswatch.pipelines.dedup import band_keys, fingerprint, signature, similarity
from tests.conftest import SEED_TEXT

TEXT = clean_text(SEED_TEXT)[0]


def test_fingerprint_ignores_markup_case_and_spacing():
    assert fingerprint("Putin met  Lukashenko.") == fingerprint("putin MET lukashenko")


def test_syndicated_copy_with_new_intro_is_a_near_duplicate():
    paragraphs = TEXT.split("\n\n")
    copy = "This story was first published by The Moscow Times.\n\n" + "\n\n".join(paragraphs[1:]) + "\n\nShare this article."
    a, b = signature(TEXT, 128), signature(copy, 128)
    assert similarity(a, b) >= 0.7
    assert set(band_keys(a, 32)) & set(band_keys(b, 32))


def test_a_different_story_on_the_same_subject_is_not():
    other = (
        "Belarusian opposition leader Sviatlana Tsikhanouskaya called on Putin not to support Lukashenko, "
        "saying any agreements signed in Sochi would be illegitimate. Protests continued in Minsk on Sunday."
    )
    assert similarity(signature(TEXT, 128), signature(other, 128)) < 0.2


def test_signatures_are_deterministic_across_workers():
    assert signature(TEXT, 128) == signature(TEXT, 128)
