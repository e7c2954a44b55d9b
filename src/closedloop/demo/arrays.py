"""Array helpers the demo's phases share, and the table shape they fill. Pure NumPy."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from closedloop.demo import names


@dataclass
class Table:
    model: str  # app_label.ModelName
    columns: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0


def choice(rng, shares: dict, size: int) -> np.ndarray:
    keys = np.array(list(shares), dtype=object)
    p = np.array(list(shares.values()), dtype=float)
    return keys[rng.choice(len(keys), size=size, p=p / p.sum())]


def codes(rng, shares: dict, size: int, *, kind: dict[str, int]) -> np.ndarray:
    """Codes (`kind`: name -> code) drawn with the given shares of names."""
    table = np.array([kind[k] for k in shares], dtype=np.int8)
    p = np.array(list(shares.values()), dtype=float)
    return table[rng.choice(len(table), size=size, p=p / p.sum())]


def obj(values) -> np.ndarray:
    values = list(values)
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def dedupe(strings: np.ndarray, joiner=lambda s, n: f"{s}{n}") -> np.ndarray:
    """Make strings unique by numbering the second and later copies."""
    _, inverse, counts = np.unique(strings.astype(str), return_inverse=True, return_counts=True)
    if counts.max(initial=1) == 1:
        return strings
    order = np.argsort(inverse, kind="stable")
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    occurrence = np.empty(len(strings), dtype=np.int64)
    occurrence[order] = np.arange(len(strings)) - starts[inverse[order]]
    out = strings.copy()
    for i in np.flatnonzero(occurrence):
        out[i] = joiner(strings[i], occurrence[i] + 1)
    return out


def slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-").replace("--", "-")


def phones(country: np.ndarray, digits: np.ndarray, has_phone: np.ndarray) -> np.ndarray:
    """'+44 207 123 4567' from ten digits, vectorised (a Python f-string per lead is slow)."""
    prefix = np.array([names.PHONE_PREFIX[c] for c in country.tolist()])
    parts = (
        prefix,
        (digits // 10**7).astype(str),
        np.strings.zfill((digits // 10**4 % 1000).astype(str), 3),
        np.strings.zfill((digits % 10**4).astype(str), 4),
    )
    phone = parts[0]
    for part in parts[1:]:
        phone = np.strings.add(np.strings.add(phone, " "), part)
    return np.where(has_phone, phone, "").astype(object)


def month_label(month: str) -> str:
    year, mon = month.split("-")
    return ("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()[int(mon) - 1]) + " " + year
