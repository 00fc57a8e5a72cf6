"""Mean and 95 % confidence interval over seeds x draws (Student t, as small-n benchmark tables need)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats


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


def summarise_runs(df: pd.DataFrame, metric: str = "miou", by: tuple[str, ...] = ("method", "protocol", "fraction")) -> pd.DataFrame:
    """One row per group with mean, std, ci95 and n of `metric` over its runs (seeds x draws)."""
    sel = df[(df["metric"] == metric) & (df["kind"] == "evaluation")]
    rows = []
    for key, group in sel.groupby(list(by), dropna=False, sort=True):
        mean, half, n = mean_ci95(group["value"].to_numpy())
        std = float(group["value"].std(ddof=1)) if n > 1 else math.nan
        rows.append({**dict(zip(by, key)), "mean": mean, "std": std, "ci95": half, "n": n,
                     "run_ids": ",".join(sorted(group["run_id"]))})
    return pd.DataFrame(rows, columns=[*by, "mean", "std", "ci95", "n", "run_ids"])
