"""Comparison tables: methods x (protocol, fraction), mean +- 95 % CI, with published reference rows.

Task-agnostic: the main score, its label, its direction (best is the highest or the lowest) and whether it
prints as a percentage come from the task's `ScoreSpec`. Measured rows and reference rows are kept in
separate blocks: a reference number is never placed in a measured row, and every measured cell traces back
to the run ids in the summary.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from importlib import resources

import pandas as pd

from bench3d.results import ScoreSpec

# Published-table columns -> (protocol, fraction) of our protocol cards.
REFERENCE_COLUMNS = {
    "nuscenes_lp": ("linear_probe", 1.0),
    "nuscenes_1": ("finetune", 0.01),
    "nuscenes_5": ("finetune", 0.05),
    "nuscenes_10": ("finetune", 0.1),
    "nuscenes_25": ("finetune", 0.25),
    "nuscenes_100": ("finetune", 1.0),
    "kitti_1": ("finetune", 0.01, "KITTI"),
    "waymo_1": ("finetune", 0.01, "Waymo"),
}
#: Transfer columns: a target dataset's runs (pretrained on the table's dataset) are labelled with its short name.
TRANSFER_PREFIX = {"semantickitti": "KITTI", "synth-semantickitti": "KITTI", "waymo": "Waymo", "synth-waymo": "Waymo"}


def column_label(protocol: str, fraction: float, prefix: str = "") -> str:
    short = {"linear_probe": "LP", "finetune": "FT", "full_finetune": "FT"}.get(protocol, protocol)
    return f"{prefix + ' ' if prefix else ''}{short} {fraction * 100:g}%"


@dataclass
class ComparisonTable:
    measured: pd.DataFrame  # index method, columns labels; cells (mean, ci95, n) in display units
    reference: pd.DataFrame  # index "method (backbone)", same columns; published values in display units
    dataset: str
    task: str
    score: ScoreSpec
    #: method -> what its rows must say beside them (e.g. that its pretraining teacher used labels)
    notes: dict[str, str] = field(default_factory=dict)

    def _label(self, method: str) -> str:
        marks = list(self.notes)
        return f"{method} †{marks.index(method) + 1}" if method in self.notes else str(method)

    def _note_lines(self) -> list[str]:
        return [f"†{k + 1} {m}: {text}" for k, (m, text) in enumerate(self.notes.items())]

    def _cell(self, value: tuple[float, float, int] | float) -> str:
        if isinstance(value, tuple):
            mean, ci, _ = value
            if math.isnan(mean):
                return "–"
            return f"{mean:.2f}" if math.isnan(ci) else f"{mean:.2f} ± {ci:.2f}"
        return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.2f}"

    def _best(self) -> dict[str, str]:
        best = {}
        pick = max if self.score.higher_is_better else min
        for col in self.measured.columns:
            means = {m: v[0] for m, v in self.measured[col].items() if isinstance(v, tuple) and not math.isnan(v[0])}
            if means:
                best[col] = pick(means, key=means.get)
        return best

    def to_markdown(self) -> str:
        cols = list(self.measured.columns)
        best = self._best()
        better = "higher" if self.score.higher_is_better else "lower"
        lines = [f"**{self.dataset}, {self.task}: {self.score.label}, mean ± 95 % CI over pretraining seeds × seeds × "
                 f"draws; (n) = runs per cell; {better} is better, best in bold**", "",
                 "| method | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
        for method, row in self.measured.iterrows():
            cells = []
            for c in cols:
                text = self._cell(row[c])
                text = f"**{text}**" if best.get(c) == method else text
                cells.append(text if row[c][2] == 0 else f"{text} ({row[c][2]})")
            lines.append(f"| {self._label(method)} | " + " | ".join(cells) + " |")
        if self.notes:
            lines += [""] + [line + "  " for line in self._note_lines()]
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
            out.append(f"{self._label(method)} & " + " & ".join(cells) + r" \\")
        if not self.reference.empty:
            out += [r"\midrule", r"\multicolumn{" + str(len(cols) + 1) + r"}{l}{\textit{Published (reference, not measured here)}} \\"]
            for method, row in self.reference.iterrows():
                out.append(f"{method} & " + " & ".join(self._cell(row.get(c, math.nan)) for c in cols) + r" \\")
        out += [r"\bottomrule", r"\end{tabular}"]
        out += [f"% {line}" for line in self._note_lines()]
        return "\n".join(out) + "\n"

    def to_csv(self) -> str:
        rows = []
        for method, row in self.measured.iterrows():
            for col in self.measured.columns:
                mean, ci, n = row[col] if isinstance(row[col], tuple) else (math.nan, math.nan, 0)
                rows.append({"source": "measured", "method": method, "column": col, "mean": mean, "ci95": ci, "n": n,
                             "note": self.notes.get(str(method), "")})
        for method, row in self.reference.iterrows():
            for col in self.reference.columns:
                rows.append({"source": "published", "method": method, "column": col, "mean": row[col], "ci95": math.nan, "n": math.nan})
        return pd.DataFrame(rows).to_csv(index=False)


def published_table(name: str) -> pd.DataFrame:
    with resources.files("bench3d.reference").joinpath(name).open() as f:
        return pd.read_csv(f)


def build_table(summary: pd.DataFrame, dataset: str, task: str, score: ScoreSpec, reference_table: str | None = None,
                reference_methods: list[str] | None = None,
                transfer: dict[str, pd.DataFrame] | None = None) -> ComparisonTable:
    """`summary` from stats.summarise_runs (raw values); reference rows for the named methods, from the task's
    published table (in the same units as the printed score). `transfer`: column prefix (KITTI, Waymo) -> the
    summary of another dataset's runs whose backbones were pretrained on `dataset` (the papers' transfer columns)."""
    scale = 100.0 if score.percent else 1.0
    measured: dict[str, dict[str, tuple[float, float, int]]] = {}
    for prefix, part in [("", summary), *(transfer or {}).items()]:
        for _, r in part.iterrows():
            col = column_label(r["protocol"], float(r["fraction"]), prefix)
            measured.setdefault(r["method"], {})[col] = (scale * r["mean"], scale * r["ci95"], int(r["n"]))
    cols = sorted({c for row in measured.values() for c in row}, key=_column_order)
    measured_df = pd.DataFrame.from_dict(measured, orient="index").reindex(columns=cols)
    measured_df = measured_df.map(lambda v: v if isinstance(v, tuple) else (math.nan, math.nan, 0))
    if reference_table is None or reference_methods == []:
        return ComparisonTable(measured_df, pd.DataFrame(columns=cols), dataset, task, score)
    ref = published_table(reference_table)
    if reference_methods is not None:
        wanted = {m.lower() for m in reference_methods}
        ref = ref[ref["method"].str.lower().isin(wanted)]
    ref_rows = {}
    for _, r in ref.iterrows():
        label = f"{r['method']} ({r['backbone_2d']})" if r["backbone_2d"] != "-" else str(r["method"])
        ref_rows[label] = {column_label(*REFERENCE_COLUMNS[k]): r[k] for k in REFERENCE_COLUMNS
                           if k in r and column_label(*REFERENCE_COLUMNS[k]) in cols}
    reference_df = pd.DataFrame.from_dict(ref_rows, orient="index").reindex(columns=cols)
    return ComparisonTable(measured_df, reference_df, dataset, task, score)


def _column_order(label: str) -> tuple[int, str, float]:
    kind, _, pct = label.rpartition(" ")
    return (0 if kind == "LP" else 1, kind, float(pct.rstrip("%")))
