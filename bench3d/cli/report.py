"""`bench3d results`, `bench3d table`, `bench3d list`."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from bench3d.cli._options import output_file

console = Console()


def results(
    store: Path = typer.Option(None, "--results", help="Results store (default: results/)."),
    metric: str = typer.Option("miou", help="Metric to show."),
    csv: Path = typer.Option(None, callback=output_file, help="Write the long table as CSV."),
    check: bool = typer.Option(False, "--check", help="Report what does not belong in the store (junk files, "
                                                      "dead processes' leftovers)."),
    repair: bool = typer.Option(False, "--repair", help="With --check: remove dead leftovers, move junk to "
                                                        "quarantine/."),
    compare: tuple[Path, Path] = typer.Option((None, None), "--compare", help="Two stores: the runs whose ids "
                                              "match, with their main-score differences (drift between machines)."),
) -> None:
    """List finished runs with a metric; check or repair a store; compare two stores."""
    from bench3d.paths import results_dir, write_text_atomic
    from bench3d.results import ResultsStore, load

    if compare[0] is not None:
        _compare(*compare)
        return
    if check or repair:
        _check(ResultsStore(store), repair)
        return
    df = load(store)
    if csv:
        write_text_atomic(csv, df.to_csv(index=False))
        console.print(f"wrote {csv}")
    if df.empty:
        console.print(f"no run records in {store or results_dir()}")
        return
    sel = df[df.metric == metric].sort_values(["method", "protocol", "fraction", "draw", "seed"])
    table = Table("run id", "kind", "method", "protocol", "fraction", "draw", "seed", metric, "reducer")
    for _, r in sel.iterrows():
        table.add_row(r.run_id, r.kind, r.method, str(r.protocol), f"{r.fraction}", str(r.draw), str(r.seed),
                      f"{r.value:.4f}", str(r.reducer))
    console.print(table)


def _check(store, repair: bool) -> None:
    from bench3d.harness.maintenance import check_store, repair_store

    report = check_store(store)
    console.print(f"{store.root}: {report.records} valid record(s)")
    for path, why in report.bad_records:
        console.print(f"  not a record: {path}: {why}")
    for path in report.dead_temp_files:
        console.print(f"  left by a dead process (temporary file or free lock): {path}")
    for path in report.stale_work:
        console.print(f"  work folder of a finished or empty run: {path}")
    for path in report.orphan_checkpoints:
        console.print(f"  checkpoint without a record (an interrupted pretraining; it resumes): {path}")
    if repair:
        for line in repair_store(store, report, quarantine_bad=True):
            console.print(f"  {line}")
    elif not report.clean:
        console.print("run `bench3d results --check --repair` to clean up")
        raise typer.Exit(1)


def _compare(a: Path, b: Path) -> None:
    from bench3d.reports.compare import compare_stores

    df = compare_stores(a, b)
    if df.empty:
        console.print(f"no run id is in both {a} and {b}")
        return
    table = Table("run id", "method", "protocol", "seed", "score", str(a), str(b), "difference", "machines")
    for r in df.itertuples():
        table.add_row(r.run_id, r.method, str(r.protocol), str(r.seed), r.score, f"{r.value_a:.6f}",
                      f"{r.value_b:.6f}", f"{r.difference:+.6f}", "same" if r.same_cpu else f"{r.cpu_a} | {r.cpu_b}")
    console.print(table)
    console.print(f"{len(df)} run(s) in both; {int((df.difference != 0).sum())} differ")


def table(
    store: Path = typer.Option(None, "--results", help="Results store (default: results/)."),
    dataset: str = typer.Option("synth"),
    out: Path = typer.Option(None, "--out", "--reports", help="Folder for table.md / .tex / .csv (default: $BENCH3D_REPORTS, else reports/ next to the results store)."),
    reference: list[str] = typer.Option(["Random", "SLidR", "ScaLR", "LiMA"], help="Published methods to show."),
    task: str = typer.Option(None, help="Task to tabulate (needed when the store holds several)."),
    transfer: list[str] = typer.Option(None, help="Another dataset whose runs pretrained on --dataset add columns "
                                                  "(e.g. synth-semantickitti: KITTI FT 1%, synth-waymo: Waymo FT 1%; repeatable)."),
) -> None:
    """Comparison table: methods x (protocol, fraction), mean +- 95 % CI, published rows apart."""
    from bench3d.reports.comparison import write_comparison

    from bench3d.paths import reports_dir, results_dir

    out = out or reports_dir(store or results_dir())
    paths, text = write_comparison(store, dataset, out, reference, task, transfer=transfer or None)
    console.print(text)
    console.print("wrote " + ", ".join(str(p) for p in paths))


def report(
    store: Path = typer.Option(None, "--results", help="Results store (default: results/)."),
    out: Path = typer.Option(..., "--out", help="Folder for the report (index.md, tables/, figures/, ablations/, "
                                                "efficiency/)."),
) -> None:
    """Paper-ready report from the store alone: every dataset and task's comparison table (Markdown, LaTeX,
    CSV), label-efficiency curves, efficiency curves, ablation tables and an index with the run ids."""
    from bench3d.reports.paper import write_report

    page, paths = write_report(store, out)
    console.print(f"wrote {len(paths)} files; open {page}")


def list_(what: str = typer.Argument("all", help="methods | protocols | tasks | datasets | splits | all")) -> None:
    """Known methods, protocols, datasets and split manifests."""
    from bench3d.cards import load_method_card, load_protocol_card, method_names, protocol_names
    from bench3d.datasets import dataset_names

    if what in {"all", "methods"}:
        t = Table("method", "title", "inputs → pretrains", "components", title="methods")
        t.columns[3].overflow = "fold"  # component names are identifiers for --component; never cut them
        for name in method_names():
            c = load_method_card(name)
            t.add_row(name, c.title, f"{', '.join(c.inputs)} → {', '.join(c.pretrains) or 'nothing (seeded init)'}",
                      ", ".join(c.component_names) or "–")
        console.print(t)
    if what in {"all", "protocols"}:
        t = Table("protocol", "version", "task", "fractions", "pretrain seeds × seeds × draws", title="protocols")
        for name in protocol_names():
            p = load_protocol_card(name)
            t.add_row(name, p.version, p.task_name, ", ".join(f"{f:g}" for f in p.fractions),
                      f"{p.pretrain_seeds} × {p.seeds} × {p.draws}")
        console.print(t)
    if what in {"all", "tasks"}:
        from bench3d.tasks import registered_tasks

        t = Table("task", "consumes", "main score", "better", title="tasks")
        for name, cls in sorted(registered_tasks().items()):
            t.add_row(name, ", ".join(sorted(cls.consumes)), cls.score.name, "higher" if cls.score.higher_is_better else "lower")
        console.print(t)
    if what in {"all", "datasets"}:
        console.print("datasets: " + ", ".join(dataset_names()))
    if what in {"all", "splits"}:
        from bench3d.splits import shipped_names

        console.print("split manifests: " + ", ".join(shipped_names()))


def register(app: typer.Typer) -> None:
    app.command()(results)
    app.command()(table)
    app.command()(report)
    app.command("list")(list_)
