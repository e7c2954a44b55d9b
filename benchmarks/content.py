"""The content library: influence analytics at scale (and, from the library's part, search).

    closedloop bench content [-s leads=1000000] [-s touches=10000000] [-s assets=10000]
        [-s deals=100000] [-s repeat=3] [-s seed=5] [-s opens=300] [-s demo_leads=20000]

`influence_s`: usage, influence, lift, freshness and the bottom 20% of every asset, computed
by the pure engine on columnar data, against DuckDB SQL computing the same usage and influence
figures on the same arrays (benchmarks/_content_influence.py).

`share_open_p95_ms`: a buyer opening `opens` share links (each one's first open: a content
view recorded, the rep notified) on the demo company of `demo_leads` leads, against the same
file downloaded from the library by a signed-in rep (benchmarks/_content_share.py);
`-s opens=0` skips it.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _content_influence  # noqa: E402
import _content_share  # noqa: E402


def run(
    leads: str = "1000000",
    touches: str = "10000000",
    assets: str = "10000",
    deals: str = "100000",
    repeat: str = "3",
    seed: str = "5",
    opens: str = "300",
    demo_leads: str = "20000",
    workdir: str = "",
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
    if int(opens):
        base = Path(workdir or tempfile.gettempdir()) / "closedloop-bench-content"
        result["share_link"] = _content_share.measure(
            leads=int(demo_leads), seed=int(seed), opens=int(opens), base=base
        )
        result["share_open_p95_ms"] = result["share_link"]["share_open"]["p95_ms"]
    result["loadavg_after"] = _loadavg()
    return result


def _loadavg() -> str:
    return " ".join(f"{load:.2f}" for load in os.getloadavg())
