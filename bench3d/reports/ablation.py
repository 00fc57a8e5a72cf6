"""Ablation table: each variant's metric and its paired difference to the full method, with 95 % CIs.

Runs of a variant and of the full method with the same seed, fraction and draw are paired, so the CI
of the delta reflects the effect of the component rather than seed-to-seed spread.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from bench3d.reports.stats import mean_ci95, score_of
from bench3d.paths import write_text_atomic
from bench3d.results import RunRecord, ScoreSpec

FULL = "full"  # the variant with every component on; deltas are taken against it


def ablation_frame(records: dict[str, list[RunRecord]], metric: str) -> pd.DataFrame:
    def by_key(recs: list[RunRecord]) -> dict[tuple, float]:
        return {(r.pretrain_seed, r.fraction, r.draw, r.seed): float(r.metrics[metric]) for r in recs}

    full = by_key(records[FULL])
    rows = []
    for name, recs in records.items():
        values = by_key(recs)
        mean, ci, n = mean_ci95(list(values.values()))
        deltas = [values[k] - full[k] for k in values if k in full]
        d_mean, d_ci, d_n = mean_ci95(deltas)
        counts = {f"n_{what}s": len({getattr(r, what) for r in recs}) for what in ("pretrain_seed", "seed", "draw")}
        rows.append({"variant": name, "n": n, **counts, "mean": mean, "ci95": ci, "delta": d_mean,
                     "delta_ci95": d_ci, "paired": d_n, "run_ids": ",".join(sorted(r.run_id for r in recs))})
    return pd.DataFrame(rows)


def write_ablation_report(records: dict[str, list[RunRecord]], method: str, protocol: str,
                          out_dir: Path, settings: dict[str, object] | None = None) -> tuple[list[Path], str]:
    """Markdown + CSV of `ablation_frame`; `settings` (the method-config values every variant ran with, the
    full one included) are named under the title, so a study at a shortened budget says so."""
    score: ScoreSpec = score_of([r for recs in records.values() for r in recs])
    df = ablation_frame(records, score.name)
    scale = 100.0 if score.percent else 1.0
    better = "higher" if score.higher_is_better else "lower"
    lines = [f"**Ablation of {method}: {protocol} {score.label}, mean ± 95 % CI over pretraining seeds × seeds × "
             f"draws; Δ = paired difference to full ({better} is better)**",
             *(["", "Every variant, full included, ran with " +
                ", ".join(f"`{k}={v}`" for k, v in sorted(settings.items())) + " (not the card's preset)."]
               if settings else []),
             "", f"| variant | runs (pretraining seeds × seeds × draws) | {score.label} | Δ vs full |", "|---|---|---|---|"]

    def pm(mean: float, ci: float, sign: str = "") -> str:
        # A single run has no interval: show the value alone rather than "± nan".
        return f"{scale * mean:{sign}.2f}" + ("" if ci != ci else f" ± {scale * ci:.2f}")

    for r in df.itertuples():
        delta = "–" if r.variant == FULL else pm(r.delta, r.delta_ci95, "+")
        runs = f"{r.n} ({r.n_pretrain_seeds} × {r.n_seeds} × {r.n_draws})"
        lines.append(f"| {r.variant} | {runs} | {pm(r.mean, r.ci95)} | {delta} |")
    text = "\n".join(lines) + "\n"
    out_dir.mkdir(parents=True, exist_ok=True)
    md, csv = out_dir / f"ablation_{method}.md", out_dir / f"ablation_{method}.csv"
    write_text_atomic(md, text)
    write_text_atomic(csv, df.to_csv(index=False))
    return [md, csv], text
