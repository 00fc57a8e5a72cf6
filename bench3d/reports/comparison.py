"""Write the comparison table of a results store as Markdown, LaTeX and CSV."""

from __future__ import annotations

from pathlib import Path

from bench3d.reports.stats import summarise_runs
from bench3d.reports.table import build_table
from bench3d.results import load


def write_comparison(store: str | Path | None, dataset: str, out_dir: Path,
                     reference: list[str] | None = None) -> tuple[list[Path], str]:
    df = load(store)
    df = df[(df.dataset == dataset) & (df.kind == "evaluation")]
    if df.empty:
        raise ValueError(f"no evaluation runs for dataset {dataset!r} in {store or 'results/'}; run `bench3d run` first")
    summary = summarise_runs(df)
    table = build_table(summary, dataset=dataset, reference_methods=reference)
    out_dir.mkdir(parents=True, exist_ok=True)
    md = table.to_markdown()
    paths = [out_dir / "table.md", out_dir / "table.tex", out_dir / "table.csv", out_dir / "table_runs.csv"]
    paths[0].write_text(md)
    paths[1].write_text(table.to_latex())
    paths[2].write_text(table.to_csv())
    summary.to_csv(paths[3], index=False)  # which run ids make each cell
    return paths, md
