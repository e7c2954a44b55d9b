"""Search queries, snippets and ranking of the content library. No Django.

- `parse_query`: a search box's text as terms, phrases, OR groups and exclusions (the syntax
  of PostgreSQL's websearch_to_tsquery), so both databases get the same meaning.
- `normalize_query`: the key under which the content-gaps page groups searches.
- `highlight`: a snippet with match markers as escaped HTML with <mark> around the matches.
- `blend`: relevance and measured effectiveness into one ranking score.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

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


def words(text: str) -> tuple[str, ...]:
    """The words of a text, lower-cased (letters, digits and underscores)."""
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
        found = words(token)
        if not found:
            continue
        term = Term(found)
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
    return " ".join(sorted(set(words(text))))[:300]


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
