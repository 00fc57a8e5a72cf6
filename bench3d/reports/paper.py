"""The paper-ready report of a results store, from the store alone: comparison tables per dataset and task
(Markdown, LaTeX with the best in bold, CSV), label-efficiency curves, efficiency curves, component-ablation
tables, and an index page that links each of them with the run ids behind every number."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from bench3d.paths import write_text_atomic  # noqa: E402
from bench3d.reports.ablation import FULL, write_ablation_report  # noqa: E402
from bench3d.reports.comparison import rows_frame, write_comparison  # noqa: E402
from bench3d.reports.efficiency import write_efficiency_report  # noqa: E402
from bench3d.reports.rows import row_parts  # noqa: E402
from bench3d.reports.stats import score_of, summarise_runs  # noqa: E402
from bench3d.results import ResultsStore, RunRecord  # noqa: E402


def _pretrained_on(r: RunRecord) -> str | None:
    return r.provenance.resolved_config.get("pretrained_on")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")


def label_efficiency(records: list[RunRecord], dataset: str, task: str, out_dir: Path) -> list[Path]:
    """Main score vs label fraction per row (finetuning protocols; probes are not on this axis), mean with its
    95 % CI band; the figure and a CSV of its points with their run ids. Nothing when no row has two fractions."""
    runs = [r for r in records if r.protocol and "probe" not in r.protocol]
    if not runs:
        return []
    score = score_of(runs)
    summary = summarise_runs(rows_frame(runs), score.name, by=("method", "fraction", "protocol"))
    if summary.groupby("method")["fraction"].nunique().max() < 2:
        return []
    scale = 100.0 if score.percent else 1.0
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    for method, g in summary.sort_values("fraction").groupby("method"):
        x, y, ci = 100 * g["fraction"], scale * g["mean"], scale * g["ci95"].fillna(0.0)
        line, = ax.plot(x, y, marker="o", label=f"{method}")
        ax.fill_between(x, y - ci, y + ci, color=line.get_color(), alpha=0.18, linewidth=0)
    ax.set_xscale("log")
    ax.set_xticks(sorted(set(100 * summary["fraction"])))
    ax.get_xaxis().set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g} %"))
    ax.set(xlabel="labelled training frames", ylabel=score.label, title=f"{dataset}, {task}: label efficiency")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.tight_layout()
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = out_dir / f"label_efficiency_{_slug(dataset)}_{_slug(task)}"
    png, csv = stem.with_suffix(".png"), stem.with_suffix(".csv")
    fig.savefig(png, dpi=110)
    plt.close(fig)
    write_text_atomic(csv, summary.to_csv(index=False))
    return [png, csv]


def component_ablations(records: list[RunRecord], out_dir: Path) -> list[Path]:
    """One table per (dataset, protocol, method, teacher and settings) whose runs include switched-off
    components beside the full method: each variant's score and its paired delta."""
    groups: dict[tuple, dict[str, list[RunRecord]]] = {}
    for r in records:
        teacher, settings, off = row_parts(r)
        key = (r.dataset, r.protocol, r.method, tuple(teacher + settings))
        name = FULL if not off else ", ".join(f"−{c}" for c in off)
        groups.setdefault(key, {}).setdefault(name, []).append(r)
    paths = []
    for (dataset, protocol, method, rest), variants in sorted(groups.items(), key=lambda kv: str(kv[0])):
        if FULL not in variants or len(variants) < 2:
            continue
        folder = out_dir / _slug(f"{dataset}_{protocol}_{method}_{'_'.join(rest)}")
        settings = dict(s.split("=", 1) for s in rest if "=" in s)
        written, _ = write_ablation_report(dict(sorted(variants.items(), key=lambda kv: kv[0] != FULL)), method,
                                           str(protocol), folder, settings or None)
        paths += written
    return paths


def write_report(store: str | Path | None, out_dir: Path) -> tuple[Path, list[Path]]:
    """Everything above into `out_dir`; returns the index page and every file written."""
    records = ResultsStore(store).records()
    evals = [r for r in records if r.kind == "evaluation"]
    efficiency = [r for r in records if r.kind == "efficiency"]
    if not evals and not efficiency:
        raise ValueError(f"no evaluation or efficiency runs in {store or 'results/'}; run `bench3d run` first")
    out_dir.mkdir(parents=True, exist_ok=True)
    index = ["# bench3d report", "", f"Built from the results store `{ResultsStore(store).root}` alone "
             f"({len(evals)} evaluation runs, {len(efficiency)} efficiency runs). Every number below traces back "
             "to the run ids in the CSV beside it; each run id is a record `<store>/<run id>.json`.", ""]
    written: list[Path] = []

    def link(path: Path) -> str:
        return f"[{path.name}]({path.relative_to(out_dir).as_posix()})"

    home = sorted({(r.dataset, r.task) for r in evals if not _pretrained_on(r)})
    for dataset, task in home:
        transfer = sorted({r.dataset for r in evals if _pretrained_on(r) == dataset and r.task == task})
        paths, md = write_comparison(store, dataset, out_dir / "tables", task=task,
                                     stem=_slug(f"{dataset}_{task}"), transfer=transfer or None)
        written += paths
        index += [f"## {dataset}, {task}", "", md, "", "Files: " + ", ".join(link(p) for p in paths)
                  + f" (run ids per cell: {link(paths[3])})", ""]
        runs = [r for r in evals if r.dataset == dataset and r.task == task and not _pretrained_on(r)]
        curve = label_efficiency(runs, dataset, task, out_dir / "figures")
        if curve:
            written += curve
            index += [f"![label efficiency, {dataset} {task}]({curve[0].relative_to(out_dir).as_posix()})", "",
                      f"Points and their run ids: {link(curve[1])}", ""]
    ablations = component_ablations(evals, out_dir / "ablations")
    if ablations:
        written += ablations
        index += ["## Ablations", ""]
        for md in (p for p in ablations if p.suffix == ".md"):
            index += [md.read_text(), "", f"Files: {link(md)}, {link(md.with_suffix('.csv'))}", ""]
    if efficiency:
        paths, _ = write_efficiency_report(efficiency, out_dir / "efficiency")
        written += paths
        index += ["## Pretraining cost vs frames", "", f"![efficiency]({paths[0].relative_to(out_dir).as_posix()})",
                  "", paths[1].read_text(), "", f"Run ids per point: {link(paths[2])}", ""]
    page = out_dir / "index.md"
    write_text_atomic(page, "\n".join(index) + "\n")
    return page, [page, *written]


