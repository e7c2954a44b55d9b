"""Near-duplicate texts by MinHash over 5-word shingles. No Django.

A rep's upload whose text shares most of its word runs with a published asset is a re-created
copy; the signature (128 uint32) is stored per file version and compared with numpy.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

from closedloop.content.engine.search import words

SHINGLE_WORDS = 5
SIGNATURE_SIZE = 128
_PRIME = np.uint64(4294967311)  # the first prime above 2**32: a*x+b stays below 2**64
_rng = np.random.default_rng(20261205)  # fixed: stored signatures must stay comparable
_A = _rng.integers(1, 2**32 - 1, SIGNATURE_SIZE, dtype=np.uint64)
_B = _rng.integers(0, 2**32 - 1, SIGNATURE_SIZE, dtype=np.uint64)
# Texts shorter than this say too little to call them copies of anything.
MIN_WORDS = 40
NEAR_DUPLICATE = 0.5  # estimated Jaccard similarity of 5-word shingles


def shingles(text: str, size: int = SHINGLE_WORDS) -> set[int]:
    """Hashes (32-bit) of every run of `size` consecutive words, lower-cased."""
    tokens = words(text)
    runs = (" ".join(tokens[i : i + size]) for i in range(max(len(tokens) - size + 1, 0)))
    return {
        int.from_bytes(hashlib.blake2b(r.encode(), digest_size=4).digest(), "little") for r in runs
    }


def minhash(text: str) -> bytes | None:
    """The MinHash signature of a text (SIGNATURE_SIZE uint32, little-endian); None when the
    text is too short to compare."""
    if len(words(text)) < MIN_WORDS:
        return None
    values = np.fromiter(shingles(text), dtype=np.uint64)
    hashed = (np.outer(_A, values) + _B[:, None]) % _PRIME
    return bytes(hashed.min(axis=1).astype("<u4").tobytes())


def similarities(signature: bytes, others: Sequence[bytes]) -> npt.NDArray[np.float64]:
    """Estimated Jaccard similarity of `signature` with each of `others`."""
    if not others:
        return np.zeros(0)
    mine = np.frombuffer(signature, dtype="<u4")
    table = np.frombuffer(b"".join(others), dtype="<u4").reshape(len(others), -1)
    return np.asarray((table == mine).mean(axis=1), dtype=np.float64)


def nearest(signature: bytes, candidates: Iterable[tuple[int, bytes]]) -> tuple[int, float] | None:
    """The candidate (id, similarity) most like `signature`, if it is a near duplicate."""
    pairs = list(candidates)
    if not pairs:
        return None
    scores = similarities(signature, [s for _id, s in pairs])
    best = int(scores.argmax())
    if scores[best] < NEAR_DUPLICATE:
        return None
    return pairs[best][0], float(scores[best])
