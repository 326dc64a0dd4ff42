"""Each story once: exact fingerprints, and MinHash with LSH band keys for near duplicates.

Signatures and band keys are stored with every article, so another worker or a later run finds the
earlier copies of a story with one ``terms`` query on ``minhash_bands``: no state lives in memory.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np
from datasketch import MinHash

SHINGLE_WORDS = 3
_WORD = re.compile(r"\w+")


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def fingerprint(text: str) -> str:
    """Hash of the normalised words: identical content behind different URLs or markup."""
    return hashlib.sha256(" ".join(words(text)).encode("utf-8")).hexdigest()[:32]


def shingles(text: str, k: int = SHINGLE_WORDS) -> set[bytes]:
    w = words(text)
    if len(w) < k:
        return {" ".join(w).encode("utf-8")} if w else set()
    return {" ".join(w[i : i + k]).encode("utf-8") for i in range(len(w) - k + 1)}


def signature(text: str, num_perm: int) -> list[int]:
    """A MinHash signature of the word shingles (seeded, so every worker computes the same one)."""
    m = MinHash(num_perm=num_perm, seed=1)
    m.update_batch(list(shingles(text)))
    return [int(v) for v in m.hashvalues]


def band_keys(sig: list[int], bands: int) -> list[str]:
    """LSH band keys: two signatures that share one are candidates for a near duplicate."""
    rows = len(sig) // bands
    keys = []
    for b in range(bands):
        chunk = ",".join(str(v) for v in sig[b * rows : (b + 1) * rows])
        keys.append(f"{b}:{hashlib.blake2b(chunk.encode(), digest_size=8).hexdigest()}")
    return keys


def similarity(a: list[int], b: list[int]) -> float:
    """Estimated Jaccard similarity of the shingle sets behind two signatures."""
    if not a or len(a) != len(b):
        return 0.0
    return float(np.mean(np.asarray(a, dtype=np.uint64) == np.asarray(b, dtype=np.uint64)))
