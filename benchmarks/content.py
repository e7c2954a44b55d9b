"""The content library at scale: search (the library's part), influence analytics and share links.

    closedloop bench content [-s part=all|search|influence]
        [-s search_assets=10000] [-s search_pages=200000] [-s queries=200]
        [-s databases=sqlite,postgres] [-s reuse=1]
        [-s leads=1000000] [-s touches=10000000] [-s assets=10000]
        [-s deals=100000] [-s repeat=3] [-s seed=5] [-s opens=300] [-s demo_leads=20000]

`search_p95_ms`: per database, the 95th percentile of `content.services.search_assets` over a
mix of queries on `search_assets` assets with `search_pages` pages of extracted text, against
an unindexed `icontains` search of the same data (benchmarks/_content_search.py).

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
import _content_search  # noqa: E402
import _content_share  # noqa: E402


def run(
    part: str = "all",
    search_assets: str = "10000",
    search_pages: str = "200000",
    queries: str = "200",
    databases: str = "sqlite,postgres",
    reuse: str = "1",
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
    if part in ("all", "search"):
        result["search"] = _content_search.measure(
            assets=int(search_assets),
            pages=int(search_pages),
            queries=int(queries),
            seed=int(seed),
            reuse=reuse != "0",
            databases=[d.strip() for d in databases.split(",") if d.strip()],
        )
        result["search_p95_ms"] = result["search"].pop("search_p95_ms")
    if part in ("all", "influence"):
        result.update(_influence(leads, touches, assets, deals, repeat, seed))
        if int(opens):
            base = Path(workdir or tempfile.gettempdir()) / "closedloop-bench-content"
            result["share_link"] = _content_share.measure(
                leads=int(demo_leads), seed=int(seed), opens=int(opens), base=base
            )
            result["share_open_p95_ms"] = result["share_link"]["share_open"]["p95_ms"]
    result["loadavg_after"] = _loadavg()
    return result


def _influence(leads: str, touches: str, assets: str, deals: str, repeat: str, seed: str) -> dict:
    return dict(
        _content_influence.measure(
            leads=int(leads),
            touches=int(touches),
            assets=int(assets),
            deals=int(deals),
            repeat=int(repeat),
            seed=int(seed),
        )
    )


def _loadavg() -> str:
    return " ".join(f"{load:.2f}" for load in os.getloadavg())
