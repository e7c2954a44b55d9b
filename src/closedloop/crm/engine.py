"""Pure computations on the revenue record (no Django): the leads' stage timestamps of a whole
stage history given as columns, for loaders that write history in bulk (the demo company)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from closedloop.vocabulary import Stage

NEVER = np.iinfo(np.int64).max


def first_entry_times(
    lead: npt.NDArray[np.integer],
    to_stage: npt.NDArray[np.object_],
    at: npt.NDArray[np.integer],
    *,
    leads: int,
    missing: int,
) -> dict[str, npt.NDArray[np.int64]]:
    """Per Lead stage field (`mql_at`, `sal_at`, ...): each lead's earliest arrival at that
    stage in a history whose row i says lead `lead[i]` (0..leads-1) entered `to_stage[i]` at
    `at[i]` (any integer time), or `missing` for a lead that never entered it. These are the
    timestamps `crm.services.stages.change_stage` keeps one move at a time (decision 0028)."""
    times = np.asarray(at, dtype=np.int64)
    out: dict[str, npt.NDArray[np.int64]] = {}
    for stage in Stage:
        mask = to_stage == stage.value
        first = np.full(leads, NEVER, dtype=np.int64)
        np.minimum.at(first, lead[mask], times[mask])
        out[f"{stage.value}_at"] = np.where(first == NEVER, missing, first)
    return out
