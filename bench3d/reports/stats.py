"""Mean and 95 % confidence interval over pretraining seeds x downstream seeds x draws (Student t, as small-n
benchmark tables need), and the main score of a set of records."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from bench3d.results import RunRecord, ScoreSpec
from bench3d.tasks import task_class


def mean_ci95(values: np.ndarray | list[float]) -> tuple[float, float, int]:
    """(mean, half-width of the 95 % CI, n). The half-width is NaN for a single value."""
    arr = np.asarray(values, dtype=np.float64)
    arr = arr[~np.isnan(arr)]
    n = int(arr.size)
    if n == 0:
        return math.nan, math.nan, 0
    mean = float(arr.mean())
    if n == 1:
        return mean, math.nan, 1
    half = float(stats.t.ppf(0.975, n - 1) * arr.std(ddof=1) / math.sqrt(n))
    return mean, half, n


def score_of(records: list[RunRecord]) -> ScoreSpec:
    """The one main score of these records (from the records; records older than schema 1.1 ask the task)."""
    specs = {r.score if r.score is not None else task_class(r.task).score for r in records}
    if len(specs) != 1:
        raise ValueError(f"records mix main scores {sorted(s.name for s in specs)}; report one task at a time")
    return specs.pop()


COUNT_COLUMNS = {"pretrain_seed": "n_pretrain_seeds", "seed": "n_seeds", "draw": "n_draws"}


def summarise_runs(df: pd.DataFrame, metric: str, by: tuple[str, ...] = ("method", "protocol", "fraction")) -> pd.DataFrame:
    """One row per group with mean, std, ci95 and n of `metric` over its runs (pretraining seeds x seeds x
    draws), how many distinct values of each went in, and the run ids."""
    sel = df[(df["metric"] == metric) & (df["kind"] == "evaluation")]
    rows = []
    for key, group in sel.groupby(list(by), dropna=False, sort=True):
        mean, half, n = mean_ci95(group["value"].to_numpy())
        std = float(group["value"].std(ddof=1)) if n > 1 else math.nan
        counts = {out: int(group[col].nunique(dropna=False)) for col, out in COUNT_COLUMNS.items()}
        rows.append({**dict(zip(by, key)), "mean": mean, "std": std, "ci95": half, "n": n, **counts,
                     "run_ids": ",".join(sorted(group["run_id"]))})
    return pd.DataFrame(rows, columns=[*by, "mean", "std", "ci95", "n", *COUNT_COLUMNS.values(), "run_ids"])
