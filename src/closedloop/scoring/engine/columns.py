"""Which columns of an export carry no usable signal, and why: constant, identifier-like, date-like.

Real exports carry record ids, constant bookkeeping columns and creation dates. A constant says
nothing; an id is different on every row, so a model can only memorise it; a date of record
creation describes when a row was made rather than the lead, and its values never recur for
new leads. `screen_columns` names each such column with the reason, so whoever runs an
evaluation sees what was left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import cast

import polars as pl

from closedloop.scoring.engine.encoding import clean_text

ID_SHARE = 0.95  # distinct values per answered row above which a column reads as an id
DATE_SHARE = 0.95  # share of answers that must parse as dates
_ID_NAME = re.compile(r"(^|[\s_.-])(id|uuid|guid|key|number|no|nr)$|^id[\s_.-]", re.IGNORECASE)
_DATE_FORMATS = ("%Y-%m-%d", "%d-%m-%Y", "%m/%d/%Y", "%d/%m/%Y", "%Y/%m/%d", "%d.%m.%Y")


@dataclass(frozen=True)
class DroppedColumn:
    name: str
    kind: str  # constant, identifier or date
    why: str

    def as_dict(self) -> dict[str, str]:
        return {"column": self.name, "kind": self.kind, "why": self.why}


def screen_columns(frame: pl.DataFrame) -> list[DroppedColumn]:
    """The columns of `frame` to leave out, in column order, each with its reason."""
    found = []
    for name in frame.columns:
        dropped = _screen(name, clean_text(frame[name]).drop_nulls())
        if dropped is not None:
            found.append(dropped)
    return found


def _screen(name: str, answered: pl.Series) -> DroppedColumn | None:
    distinct = answered.n_unique()
    if distinct <= 1:
        value = f"{answered[0]!r}" if distinct else "empty"
        return DroppedColumn(name, "constant", f"every answered row is {value}")
    if _is_date(answered):
        return DroppedColumn(
            name,
            "date",
            f"dates ({answered.min()!s} to {answered.max()!s}): when a record was made",
        )
    share = distinct / answered.len()
    numeric = answered.str.replace_all(",", "").cast(pl.Float64, strict=False)
    is_number = numeric.is_not_null().all()
    if share >= ID_SHARE and (not is_number or _ID_NAME.search(name.strip())):
        return DroppedColumn(
            name, "identifier", f"{distinct:,} distinct values in {answered.len():,} rows"
        )
    return None


def _is_date(answered: pl.Series) -> bool:
    sample = answered.head(2000).str.slice(0, 10)
    for pattern in _DATE_FORMATS:
        parsed = sample.str.to_date(pattern, strict=False)
        if cast(float, parsed.is_not_null().mean() or 0.0) >= DATE_SHARE:
            return True
    return False
