"""The content library: influence analytics at scale (and, from the library's part, search).

    closedloop bench content [-s leads=1000000] [-s touches=10000000] [-s assets=10000]
        [-s deals=100000] [-s repeat=3] [-s seed=5]

`influence_s`: usage, influence, lift, freshness and the bottom 20% of every asset, computed
by the pure engine on columnar data, against DuckDB SQL computing the same usage and influence
figures on the same arrays (benchmarks/_content_influence.py).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _content_influence  # noqa: E402


def run(
    leads: str = "1000000",
    touches: str = "10000000",
    assets: str = "10000",
    deals: str = "100000",
    repeat: str = "3",
    seed: str = "5",
) -> dict:
    result: dict = {"loadavg_before": _loadavg()}
    result.update(
        _content_influence.measure(
            leads=int(leads),
            touches=int(touches),
            assets=int(assets),
            deals=int(deals),
            repeat=int(repeat),
            seed=int(seed),
        )
    )
    result["loadavg_after"] = _loadavg()
    return result


def _loadavg() -> str:
    return " ".join(f"{load:.2f}" for load in os.getloadavg())
