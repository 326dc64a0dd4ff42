"""Each story once: exact fingerprints, and MinHash with LSH band keys for near duplicates.

Signatures and band keys are stored with every article, so another worker or a later run finds the
earlier copies of a story with one ``terms`` query on ``minhash_bands``: no state lives in memory.
"""

from __future__ import annotations

import functools
import hashlib
import re

import numpy as np

SHINGLE_WORDS = 3
MIN_SHINGLES_FOR_CONTAINMENT = 40
SCHEME = "affine32"  # datasketch's default: signatures stored by earlier runs stay comparable
_WORD = re.compile(r"\w+")


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def fingerprint(text: str | list[str]) -> str:
    """Hash of the normalised words: identical content behind different URLs or markup."""
    tokens = words(text) if isinstance(text, str) else text
    return hashlib.sha256(" ".join(tokens).encode("utf-8")).hexdigest()[:32]


def shingles(text: str | list[str], k: int = SHINGLE_WORDS) -> set[bytes]:
    w = words(text) if isinstance(text, str) else text
    if len(w) < k:
        return {" ".join(w).encode("utf-8")} if w else set()
    return {" ".join(w[i : i + k]).encode("utf-8") for i in range(len(w) - k + 1)}


def sketch(text: str | list[str], num_perm: int) -> tuple[list[int], int]:
    """A MinHash signature of the word shingles (seeded, so every worker computes the same one), and their count."""
    from datasketch import MinHash  # here, not at import: see _permutations

    grams = shingles(text)
    m = MinHash(num_perm=num_perm, seed=1, permutations=_permutations(num_perm), scheme=SCHEME)
    m.update_batch(list(grams))
    return [int(v) for v in m.hashvalues], len(grams)


@functools.cache
def _permutations(num_perm: int) -> tuple[np.ndarray, np.ndarray]:
    """The seeded permutations, drawn once per worker rather than once per article (a tenth of the sketch's time)."""
    # Imported here: the datasketch package loads scipy and redis for its other sketches (~60 MB per
    # process), and only the worker processes that clean items compute signatures, not the runner.
    from datasketch import MinHash

    return MinHash(num_perm=num_perm, seed=1, scheme=SCHEME).permutations


def signature(text: str, num_perm: int) -> list[int]:
    return sketch(text, num_perm)[0]


def band_keys(sig: list[int], bands: int) -> list[str]:
    """LSH band keys: two signatures that share one are candidates for a near duplicate."""
    rows = len(sig) // bands
    keys = []
    for b in range(bands):
        chunk = ",".join(str(v) for v in sig[b * rows : (b + 1) * rows])
        keys.append(f"{b}:{hashlib.blake2b(chunk.encode(), digest_size=8).hexdigest()}")
    return keys


def resemblance(a: list[int] | bytes, a_shingles: int, b: list[int] | bytes, b_shingles: int) -> float:
    """How much of one story the other holds: the larger of Jaccard and containment.

    Containment (the share of the shorter text's shingles found in the longer) is estimated from the
    Jaccard estimate and the two set sizes; it catches truncated copies, which Jaccard alone misses.
    Texts under ``MIN_SHINGLES_FOR_CONTAINMENT`` use Jaccard only: a one-line item is not a copy of
    every article that quotes it.
    """
    j = similarity(a, b)
    smaller = min(a_shingles, b_shingles)
    if smaller < MIN_SHINGLES_FOR_CONTAINMENT:
        return j
    shared = j * (a_shingles + b_shingles) / (1 + j)
    return min(1.0, max(j, shared / smaller))


def packed(sig: list[int]) -> bytes:
    """A signature as 8 bytes per value: what a shuffle carries once per band, decoded as one object."""
    return np.asarray(sig, dtype=np.uint64).tobytes()


def _values(sig: list[int] | bytes) -> np.ndarray:
    return np.frombuffer(sig, dtype=np.uint64) if isinstance(sig, bytes) else np.asarray(sig, dtype=np.uint64)


def similarity(a: list[int] | bytes, b: list[int] | bytes) -> float:
    """Estimated Jaccard similarity of the shingle sets behind two signatures (lists or ``packed``)."""
    va, vb = _values(a), _values(b)
    if not len(va) or len(va) != len(vb):
        return 0.0
    return float(np.mean(va == vb))


def with_cluster(a: dict, **changes) -> dict:
    """A copy of the article with its cluster changed: Beam elements are never modified in place."""
    return {**a, "cluster": {**a["cluster"], **changes}}
