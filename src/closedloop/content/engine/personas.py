"""A lead's buying persona from its job title (for "content for this lead"). No Django."""

from __future__ import annotations

from closedloop.content.engine.search import words

_PERSONA_WORDS = (
    ("finance", {"cfo", "finance", "financial", "controller", "accountant", "treasurer"}),
    ("technical", {"cto", "engineer", "engineering", "developer", "architect", "it", "devops"}),
    ("executive", {"ceo", "chief", "founder", "president", "vp", "head", "director", "owner"}),
)


def persona_of(title: str, seniority: str = "") -> str:
    """The buying persona a job title suggests: finance, technical, executive or
    practitioner ("" when there is no title)."""
    found = set(words(f"{title} {seniority}"))
    if not found:
        return ""
    for persona, markers in _PERSONA_WORDS:
        if found & markers:
            return persona
    return "practitioner"
