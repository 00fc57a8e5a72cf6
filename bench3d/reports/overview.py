"""One table across tasks: a row per method as it ran (`reports.rows`), a column per (task, protocol, fraction)
holding that task's main score, mean ± 95 % CI (n). Each column names its score, so LiDAR mIoU, BEV mIoU and
NDS can stand side by side; a method that has no run of a column shows `–` there. Best per column in bold, in
the direction of that column's score. The run ids behind every cell go to `<stem>_runs.csv`.

This is the one-glance view (the demo prints it); the per-task tables of `reports.comparison` stay the ones
with published reference rows and transfer columns.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from bench3d.paths import write_text_atomic
from bench3d.reports.comparison import rows_frame
from bench3d.reports.rows import row_label
from bench3d.reports.stats import score_of, summarise_runs
from bench3d.reports.table import column_label
from bench3d.results import RunRecord, ScoreSpec


@dataclass(frozen=True)
class OverviewColumn:
    task: str
    protocol: str
    fraction: float
    score: ScoreSpec

    @property
    def label(self) -> str:
        return f"{self.task} {column_label(self.protocol, self.fraction)} ({self.score.label})"


@dataclass
class OverviewTable:
    dataset: str
    columns: list[OverviewColumn]
    #: row label -> column label -> (mean, ci95, n) in display units
    cells: dict[str, dict[str, tuple[float, float, int]]]
    runs: pd.DataFrame  # one row per cell: row, column, run ids

    def _best(self) -> dict[str, str]:
        best = {}
        for col in self.columns:
            means = {row: c[col.label][0] for row, c in self.cells.items() if col.label in c}
            if means:
                best[col.label] = (max if col.score.higher_is_better else min)(means, key=means.get)
        return best

    @staticmethod
    def format_cell(value: tuple[float, float, int] | None) -> str:
        """`mean ± ci (n)`, `mean (n)` for one run, `–` for none."""
        if value is None:
            return "–"
        mean, ci, n = value
        text = f"{mean:.2f}" if math.isnan(ci) else f"{mean:.2f} ± {ci:.2f}"
        return f"{text} ({n})"

    def to_markdown(self) -> str:
        best = self._best()
        head = [c.label for c in self.columns]
        lines = [f"**{self.dataset}: each column's main score, mean ± 95 % CI over the runs of the cell, (n) = runs; "
                 "best per column in bold**", "", "| method | " + " | ".join(head) + " |",
                 "|---|" + "---|" * len(head)]
        for row, cells in self.cells.items():
            texts = []
            for col in head:
                text = self.format_cell(cells.get(col))
                texts.append(f"**{text}**" if best.get(col) == row else text)
            lines.append(f"| {row} | " + " | ".join(texts) + " |")
        return "\n".join(lines) + "\n"

    def to_latex(self) -> str:
        best = self._best()
        head = [c.label for c in self.columns]
        out = [r"\begin{tabular}{l" + "c" * len(head) + "}", r"\toprule",
               "Method & " + " & ".join(h.replace("%", r"\%") for h in head) + r" \\", r"\midrule"]
        for row, cells in self.cells.items():
            texts = [self.format_cell(cells.get(col)).replace("±", r"$\pm$") for col in head]
            texts = [rf"\textbf{{{t}}}" if best.get(col) == row else t for t, col in zip(texts, head)]
            out.append(row.replace("_", r"\_") + " & " + " & ".join(texts) + r" \\")
        return "\n".join(out + [r"\bottomrule", r"\end{tabular}"]) + "\n"


def build_overview(records: list[RunRecord], dataset: str) -> OverviewTable:
    """The overview of `dataset`'s evaluation runs (transfer runs pretrained elsewhere are left out). Tasks and
    rows come in the order they first appear in `records`; within a task, the linear probe first, then the
    other protocols by name and fraction."""
    evals = [r for r in records if r.kind == "evaluation" and r.dataset == dataset
             and not r.provenance.resolved_config.get("pretrained_on")]
    if not evals:
        raise ValueError(f"no evaluation runs for dataset {dataset!r}; run `bench3d run` first")
    columns: list[OverviewColumn] = []
    cells: dict[str, dict[str, tuple[float, float, int]]] = {}
    runs = []
    tasks = list(dict.fromkeys(r.task for r in evals))
    row_order = list(dict.fromkeys(row_label(r) for r in evals))
    for task in tasks:
        mine = [r for r in evals if r.task == task]
        score = score_of(mine)
        scale = 100.0 if score.percent else 1.0
        summary = summarise_runs(rows_frame(mine), score.name)
        for _, s in summary.iterrows():
            col = OverviewColumn(task, s["protocol"], float(s["fraction"]), score)
            if col not in columns:
                columns.append(col)
            cells.setdefault(s["method"], {})[col.label] = (scale * s["mean"], scale * s["ci95"], int(s["n"]))
            runs.append({"row": s["method"], "column": col.label, "run_ids": s["run_ids"]})
    columns.sort(key=lambda c: (tasks.index(c.task), c.protocol != "linear_probe", c.protocol, c.fraction))
    cells = {row: cells[row] for row in row_order}
    return OverviewTable(dataset, columns, cells, pd.DataFrame(runs))


def write_overview(records: list[RunRecord], dataset: str, out_dir: Path, stem: str = "overview"
                   ) -> tuple[list[Path], OverviewTable]:
    """`<stem>.md`, `.tex` and `<stem>_runs.csv` (the run ids of every cell) in `out_dir` from `records` (a
    store's `records()`, or just the runs to show, in their order); returns the files and the table."""
    table = build_overview(records, dataset)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / f"{stem}.md", out_dir / f"{stem}.tex", out_dir / f"{stem}_runs.csv"]
    write_text_atomic(paths[0], table.to_markdown())
    write_text_atomic(paths[1], table.to_latex())
    write_text_atomic(paths[2], table.runs.to_csv(index=False))
    return paths, table
