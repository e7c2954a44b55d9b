"""Pure computation of the content library: no Django.

- `parse_query`: a search box's text as terms, phrases, OR groups and exclusions (the syntax
  of PostgreSQL's websearch_to_tsquery), so both databases get the same meaning.
- `normalize_query`: the key under which the content-gaps page groups searches.
- `highlight`: a snippet with match markers as escaped HTML with <mark> around the matches.
- `blend`: relevance and measured effectiveness into one ranking score.
- `minhash` / `similarity`: near-duplicate detection by word shingles.
- `persona_of`: a lead's buying persona from its job title.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

# Markers the databases put around matched words in a snippet: control characters never typed
# in a query nor kept by the extraction, so escaping the text cannot confuse them.
MATCH_START, MATCH_END = "\x02", "\x03"

_TOKEN = re.compile(r'"[^"]*"?|\S+')
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class Term:
    """A word, or a phrase of several words that must appear in this order."""

    words: tuple[str, ...]

    @property
    def is_phrase(self) -> bool:
        return len(self.words) > 1


@dataclass(frozen=True)
class SearchQuery:
    """All `groups` must match (each group: any of its terms); no `excluded` term may."""

    groups: tuple[tuple[Term, ...], ...] = ()
    excluded: tuple[Term, ...] = field(default=())

    @property
    def empty(self) -> bool:
        return not self.groups

    def as_websearch(self) -> str:
        """The query again in websearch syntax, built from clean words only."""
        parts = [" or ".join(_term_text(t) for t in group) for group in self.groups]
        parts += [f"-{_term_text(t)}" for t in self.excluded]
        return " ".join(parts)

    def as_fts5(self) -> str:
        """The query in SQLite FTS5 syntax; every word quoted, so no input is an operator."""
        positive = " AND ".join(
            "(" + " OR ".join(_fts5_term(t) for t in group) + ")" for group in self.groups
        )
        return "".join([positive, *(f" NOT {_fts5_term(t)}" for t in self.excluded)])


def _term_text(term: Term) -> str:
    return f'"{" ".join(term.words)}"' if term.is_phrase else term.words[0]


def _fts5_term(term: Term) -> str:
    return '"' + " ".join(term.words) + '"'


def _words(text: str) -> tuple[str, ...]:
    return tuple(w.lower() for w in _WORD.findall(text))


def parse_query(text: str) -> SearchQuery:
    """Words are all required; "quoted words" form a phrase; `a or b` needs either; `-word`
    excludes. Punctuation is dropped, so nothing a user types is an operator of the database."""
    groups: list[list[Term]] = []
    excluded: list[Term] = []
    join_next = False
    for token in _TOKEN.findall(text[:300]):
        if token.lower() == "or":
            join_next = bool(groups)
            continue
        negate = token.startswith("-") and len(token) > 1
        words = _words(token)
        if not words:
            continue
        term = Term(words)
        if negate:
            excluded.append(term)
        elif join_next:
            groups[-1].append(term)
        else:
            groups.append([term])
        join_next = False
    return SearchQuery(tuple(tuple(g) for g in groups), tuple(excluded))


def normalize_query(text: str) -> str:
    """Lower-case words, de-duplicated and sorted: 'Pricing  SaaS' and 'saas pricing' group."""
    return " ".join(sorted(set(_words(text))))[:300]


def highlight(snippet: str) -> str:
    """Escaped HTML of a database snippet, with its match markers turned into <mark> tags."""
    escaped = html.escape(snippet.replace("<mark>", "").replace("</mark>", ""), quote=True)
    return escaped.replace(MATCH_START, "<mark>").replace(MATCH_END, "</mark>")


def plain_snippet(snippet: str) -> str:
    """The snippet without markers (for JSON and the command line)."""
    return snippet.replace(MATCH_START, "").replace(MATCH_END, "")


# How much measured effectiveness may lift a result: a proven asset ranks up to 50% higher
# than an equally relevant unproven one, never above a clearly more relevant one.
EFFECTIVENESS_WEIGHT = 0.5


def blend(relevance: float, effectiveness: float | None) -> float:
    """One ranking score from text relevance (>= 0) and effectiveness in [0, 1] (None: not
    measured yet, counted as neutral 0.5)."""
    e = 0.5 if effectiveness is None else min(max(effectiveness, 0.0), 1.0)
    return relevance * (1.0 + EFFECTIVENESS_WEIGHT * (e - 0.5))


# --- near duplicates ------------------------------------------------------------------------

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
    words = _words(text)
    runs = (" ".join(words[i : i + size]) for i in range(max(len(words) - size + 1, 0)))
    return {
        int.from_bytes(hashlib.blake2b(r.encode(), digest_size=4).digest(), "little") for r in runs
    }


def minhash(text: str) -> bytes | None:
    """The MinHash signature of a text (SIGNATURE_SIZE uint32, little-endian); None when the
    text is too short to compare."""
    if len(_words(text)) < MIN_WORDS:
        return None
    values = np.fromiter(shingles(text), dtype=np.uint64)
    hashed = (np.outer(_A, values) + _B[:, None]) % _PRIME
    return hashed.min(axis=1).astype("<u4").tobytes()


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


# --- recommendations ------------------------------------------------------------------------

_PERSONA_WORDS = (
    ("finance", {"cfo", "finance", "financial", "controller", "accountant", "treasurer"}),
    ("technical", {"cto", "engineer", "engineering", "developer", "architect", "it", "devops"}),
    ("executive", {"ceo", "chief", "founder", "president", "vp", "head", "director", "owner"}),
)


def persona_of(title: str, seniority: str = "") -> str:
    """The buying persona a job title suggests: finance, technical, executive or
    practitioner ("" when there is no title)."""
    words = set(_words(f"{title} {seniority}"))
    if not words:
        return ""
    for persona, markers in _PERSONA_WORDS:
        if words & markers:
            return persona
    return "practitioner"
