"""Comparison tables: methods x (protocol, fraction), mean +- 95 % CI, with published reference rows.

Measured rows and reference rows are kept in separate blocks: a reference number is never placed in a
measured row, and every measured cell traces back to the run ids in the summary.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from importlib import resources

import pandas as pd

# Published-table columns -> (protocol, fraction) of our protocol cards.
REFERENCE_COLUMNS = {
    "nuscenes_lp": ("linear_probe", 1.0),
    "nuscenes_1": ("finetune", 0.01),
    "nuscenes_5": ("finetune", 0.05),
    "nuscenes_10": ("finetune", 0.1),
    "nuscenes_25": ("finetune", 0.25),
    "nuscenes_100": ("finetune", 1.0),
}


def column_label(protocol: str, fraction: float) -> str:
    short = {"linear_probe": "LP", "finetune": "FT", "full_finetune": "FT"}.get(protocol, protocol)
    return f"{short} {fraction * 100:g}%"


@dataclass
class ComparisonTable:
    measured: pd.DataFrame  # index method, columns labels; cells (mean, ci95, n) in percent
    reference: pd.DataFrame  # index "method (backbone)", same columns; published values in percent
    dataset: str
    metric: str

    def _cell(self, value: tuple[float, float, int] | float) -> str:
        if isinstance(value, tuple):
            mean, ci, _ = value
            if math.isnan(mean):
                return "–"
            return f"{mean:.2f}" if math.isnan(ci) else f"{mean:.2f} ± {ci:.2f}"
        return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.2f}"

    def _best(self) -> dict[str, str]:
        best = {}
        for col in self.measured.columns:
            means = {m: v[0] for m, v in self.measured[col].items() if isinstance(v, tuple) and not math.isnan(v[0])}
            if means:
                best[col] = max(means, key=means.get)
        return best

    def to_markdown(self) -> str:
        cols = list(self.measured.columns)
        best = self._best()
        lines = [f"**{self.dataset}: {self.metric} (%), mean ± 95 % CI over seeds × draws**", "",
                 "| method | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
        for method, row in self.measured.iterrows():
            cells = [f"**{self._cell(row[c])}**" if best.get(c) == method else self._cell(row[c]) for c in cols]
            lines.append(f"| {method} | " + " | ".join(cells) + " |")
        if not self.reference.empty:
            lines += ["", "*Published reference (nuScenes val, from the papers; not measured here):*", "",
                      "| method | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
            for method, row in self.reference.iterrows():
                lines.append(f"| {method} | " + " | ".join(self._cell(row.get(c, math.nan)) for c in cols) + " |")
        return "\n".join(lines) + "\n"

    def to_latex(self) -> str:
        cols = list(self.measured.columns)
        best = self._best()
        out = [r"\begin{tabular}{l" + "c" * len(cols) + "}", r"\toprule",
               "Method & " + " & ".join(c.replace("%", r"\%") for c in cols) + r" \\", r"\midrule"]
        for method, row in self.measured.iterrows():
            cells = []
            for c in cols:
                text = self._cell(row[c]).replace("±", r"$\pm$")
                cells.append(rf"\textbf{{{text}}}" if best.get(c) == method else text)
            out.append(f"{method} & " + " & ".join(cells) + r" \\")
        if not self.reference.empty:
            out += [r"\midrule", r"\multicolumn{" + str(len(cols) + 1) + r"}{l}{\textit{Published (reference, not measured here)}} \\"]
            for method, row in self.reference.iterrows():
                out.append(f"{method} & " + " & ".join(self._cell(row.get(c, math.nan)) for c in cols) + r" \\")
        out += [r"\bottomrule", r"\end{tabular}"]
        return "\n".join(out) + "\n"

    def to_csv(self) -> str:
        rows = []
        for method, row in self.measured.iterrows():
            for col in self.measured.columns:
                mean, ci, n = row[col] if isinstance(row[col], tuple) else (math.nan, math.nan, 0)
                rows.append({"source": "measured", "method": method, "column": col, "mean": mean, "ci95": ci, "n": n})
        for method, row in self.reference.iterrows():
            for col in self.reference.columns:
                rows.append({"source": "published", "method": method, "column": col, "mean": row[col], "ci95": math.nan, "n": math.nan})
        return pd.DataFrame(rows).to_csv(index=False)


def published_lidarseg() -> pd.DataFrame:
    with resources.files("bench3d.reference").joinpath("published_lidarseg.csv").open() as f:
        return pd.read_csv(f)


def build_table(summary: pd.DataFrame, dataset: str, metric: str = "mIoU",
                reference_methods: list[str] | None = None) -> ComparisonTable:
    """`summary` from stats.summarise_runs (values as fractions); reference rows for the named methods."""
    measured: dict[str, dict[str, tuple[float, float, int]]] = {}
    for _, r in summary.iterrows():
        col = column_label(r["protocol"], float(r["fraction"]))
        measured.setdefault(r["method"], {})[col] = (100 * r["mean"], 100 * r["ci95"], int(r["n"]))
    cols = sorted({c for row in measured.values() for c in row}, key=_column_order)
    measured_df = pd.DataFrame.from_dict(measured, orient="index").reindex(columns=cols)
    measured_df = measured_df.map(lambda v: v if isinstance(v, tuple) else (math.nan, math.nan, 0))
    ref = published_lidarseg()
    if reference_methods is not None:
        wanted = {m.lower() for m in reference_methods}
        ref = ref[ref["method"].str.lower().isin(wanted)]
    ref_rows = {}
    for _, r in ref.iterrows():
        label = f"{r['method']} ({r['backbone_2d']})" if r["backbone_2d"] != "-" else str(r["method"])
        ref_rows[label] = {column_label(*REFERENCE_COLUMNS[k]): r[k] for k in REFERENCE_COLUMNS
                           if column_label(*REFERENCE_COLUMNS[k]) in cols}
    reference_df = pd.DataFrame.from_dict(ref_rows, orient="index").reindex(columns=cols)
    return ComparisonTable(measured=measured_df, reference=reference_df, dataset=dataset, metric=metric)


def _column_order(label: str) -> tuple[int, float]:
    kind, pct = label.split(" ")
    return (0 if kind == "LP" else 1, float(pct.rstrip("%")))
