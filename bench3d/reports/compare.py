"""Drift between two results stores: runs whose ids match (same config, data, seeds, checkpoint and
numerics) and how their main scores differ — numbers that should be equal on one machine may drift
between machines; this shows by how much and on which CPUs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from bench3d.errors import DataError
from bench3d.reports.stats import score_of
from bench3d.results import ResultsStore

COLUMNS = ["run_id", "method", "protocol", "seed", "score", "value_a", "value_b", "difference", "same_cpu",
           "cpu_a", "cpu_b"]


def compare_stores(a: str | Path, b: str | Path) -> pd.DataFrame:
    stores = []
    for root in (Path(a), Path(b)):
        if not root.is_dir():
            raise DataError(root, "is not a results store (no such folder)", "give two store folders to --compare")
        stores.append({r.run_id: r for r in ResultsStore(root).records() if r.kind == "evaluation"})
    rows = []
    for run_id in sorted(set(stores[0]) & set(stores[1])):
        ra, rb = stores[0][run_id], stores[1][run_id]
        name = score_of([ra]).name
        va, vb = float(ra.metrics[name]), float(rb.metrics[name])
        rows.append({"run_id": run_id, "method": ra.method, "protocol": ra.protocol, "seed": ra.seed, "score": name,
                     "value_a": va, "value_b": vb, "difference": vb - va,
                     "same_cpu": ra.provenance.cpu == rb.provenance.cpu,
                     "cpu_a": ra.provenance.cpu, "cpu_b": rb.provenance.cpu})
    return pd.DataFrame(rows, columns=COLUMNS)
