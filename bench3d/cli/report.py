"""`bench3d results`, `bench3d table`, `bench3d list`."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

console = Console()


def results(
    store: Path = typer.Option(None, "--results", help="Results store (default: results/)."),
    metric: str = typer.Option("miou", help="Metric to show."),
    csv: Path = typer.Option(None, help="Write the long table as CSV."),
) -> None:
    """List finished runs with a metric."""
    from bench3d.results import load

    df = load(store)
    if csv:
        df.to_csv(csv, index=False)
        console.print(f"wrote {csv}")
    sel = df[df.metric == metric].sort_values(["method", "protocol", "fraction", "draw", "seed"])
    table = Table("run id", "kind", "method", "protocol", "fraction", "draw", "seed", metric, "reducer")
    for _, r in sel.iterrows():
        table.add_row(r.run_id, r.kind, r.method, str(r.protocol), f"{r.fraction}", str(r.draw), str(r.seed),
                      f"{r.value:.4f}", str(r.reducer))
    console.print(table)


def table(
    store: Path = typer.Option(None, "--results", help="Results store (default: results/)."),
    dataset: str = typer.Option("synth"),
    out: Path = typer.Option(None, "--out", "--reports", help="Folder for table.md / .tex / .csv (default: $BENCH3D_REPORTS, else reports/ next to the results store)."),
    reference: list[str] = typer.Option(["Random", "SLidR", "ScaLR", "LiMA"], help="Published methods to show."),
    task: str = typer.Option(None, help="Task to tabulate (needed when the store holds several)."),
) -> None:
    """Comparison table: methods x (protocol, fraction), mean +- 95 % CI, published rows apart."""
    from bench3d.reports.comparison import write_comparison

    from bench3d.paths import reports_dir, results_dir

    out = out or reports_dir(store or results_dir())
    paths, text = write_comparison(store, dataset, out, reference, task)
    console.print(text)
    console.print("wrote " + ", ".join(str(p) for p in paths))


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
    app.command("list")(list_)
