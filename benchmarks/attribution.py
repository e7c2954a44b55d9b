"""Attribution on 1M journeys: exact Markov of orders 1-4, every other model, and a reference.

    closedloop bench attribution [-s journeys=1000000] [-s orders=1,2,3,4] [-s repeat=3]
        [-s peer_python=PATH] [-s walks=1000000]

A seeded generator (benchmarks/_journeys.py) makes the journeys (~285k distinct paths over 20
channels with the defaults); generating them is not timed. "compute" is the best of `repeat`
runs of the model on the aggregated paths.

The reference, in the same run: with `peer_python` (a Python that has the ChannelAttribution
package installed; it is GPL and never a dependency of closedloop) its `markov_model` runs on
the same path file, and its time and mean relative error against the exact result are
reported. Without it, the Monte-Carlo estimate that ChannelAttribution makes (random walks
through the same chain, `walks` per scenario) is run instead.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _journeys import generate_journeys  # noqa: E402

from closedloop.analytics.engine.attribution import MODELS, attribute  # noqa: E402
from closedloop.analytics.engine.markov import build_chain, removal_effects  # noqa: E402
from closedloop.analytics.engine.simulation import simulate_removal_effects  # noqa: E402

PEER_SCRIPT = """
import json, sys, time
import pandas as pd
from ChannelAttribution import markov_model
frame = pd.read_csv(sys.argv[1], sep=";")
order = int(sys.argv[2])
start = time.perf_counter()
result = markov_model(frame, "path", "total_conversions", var_value="total_conversion_value",
                      var_null="total_null", order=order, out_more=True, verbose=0)
elapsed = time.perf_counter() - start
effects = result["removal_effects"]
print(json.dumps({"seconds": elapsed, "removal_effects": dict(zip(effects["channel_name"],
      effects["removal_effects_conversion"])), "conversions": dict(zip(
      result["result"]["channel_name"], result["result"]["total_conversions"]))}))
"""


def run(
    journeys: str = "1000000",
    orders: str = "1,2,3,4",
    repeat: str = "3",
    peer_python: str = "",
    walks: str = "1000000",
    seed: str = "7",
) -> dict:
    data = generate_journeys(journeys=int(journeys), seed=int(seed))
    result: dict = {
        "journeys": int(data.conversions.sum() + data.nulls.sum()),
        "distinct_paths": data.rows,
        "touches_in_distinct_paths": len(data.codes),
        "channels": len(data.channels),
        "conversions": float(data.conversions.sum()),
        "loadavg_before": _loadavg(),
        "markov": {},
        "models": {},
    }
    for order in (int(k) for k in orders.split(",")):
        result["markov"][f"order_{order}"] = _markov(data, order, int(repeat))
    for name in MODELS:
        if name != "markov":
            result["models"][name] = _best_of(lambda n=name: attribute(data, model=n), int(repeat))
    result["reference"] = _reference(data, orders, peer_python, int(walks), int(seed))
    result["loadavg_after"] = _loadavg()
    return result


def _markov(data, order: int, repeat: int) -> dict:
    seconds = _best_of(lambda: attribute(data, model="markov", order=order), repeat)
    chain = build_chain(data, order=order)
    return {"compute_s": seconds, "states": chain.states, "transitions": chain.transitions.nnz}


def _best_of(work, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return round(best, 4)


def _reference(data, orders: str, peer_python: str, walks: int, seed: int) -> dict:
    if peer_python:
        return _peer(data, orders, peer_python)
    chain = build_chain(data, order=1)
    exact = removal_effects(chain, len(data.channels)).conversions
    start = time.perf_counter()
    simulated = simulate_removal_effects(chain, len(data.channels), walks=walks, seed=seed)
    return {
        "kind": "Monte-Carlo simulation of the order-1 chain (ChannelAttribution's method)",
        "walks_per_scenario": walks,
        "seconds": round(time.perf_counter() - start, 3),
        "mean_relative_error_of_removal_effects": _mean_error(simulated, exact),
    }


def _peer(data, orders: str, peer_python: str) -> dict:
    out: dict = {"kind": "ChannelAttribution markov_model (Monte-Carlo)"}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "paths.csv"
        _write_path_file(data, path)
        for order in (int(k) for k in orders.split(",")):
            found = _run_peer(peer_python, path, order)
            exact = removal_effects(build_chain(data, order=order), len(data.channels))
            theirs = np.array([found["removal_effects"][name] for name in data.channels])
            out[f"order_{order}"] = {
                "seconds": round(found["seconds"], 3),
                "mean_relative_error_of_removal_effects": _mean_error(theirs, exact.conversions),
                "max_relative_error_of_removal_effects": _max_error(theirs, exact.conversions),
            }
    return out


def _run_peer(python: str, path: Path, order: int) -> dict:
    done = subprocess.run(
        [python, "-c", PEER_SCRIPT, str(path), str(order)],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _write_path_file(data, path: Path) -> None:
    names = np.array(data.channels, dtype=object)
    with path.open("w") as handle:
        handle.write("path;total_conversions;total_conversion_value;total_null\n")
        for i in range(data.rows):
            touches = names[data.codes[data.offsets[i] : data.offsets[i + 1]]]
            handle.write(
                f"{' > '.join(touches)};{data.conversions[i]:g};{data.value[i]:.4f};"
                f"{data.nulls[i]:g}\n"
            )


def _mean_error(estimate: np.ndarray, exact: np.ndarray) -> float:
    return round(float(np.mean(np.abs(estimate - exact) / exact)), 5)


def _max_error(estimate: np.ndarray, exact: np.ndarray) -> float:
    return round(float(np.max(np.abs(estimate - exact) / exact)), 5)


def _loadavg() -> str:
    return " ".join(f"{load:.2f}" for load in os.getloadavg())
