"""`bench3d demo`: the README's main command (embedded benchmark on the synthetic world)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from bench3d.cli._progress import epoch_progress
from bench3d.reports.table import column_label

console = Console()


def demo(
    dataroot: Path = typer.Option(None, help="Synthetic release (default: data/synth-demo, 5 scenes x 8 keyframes, "
                                             "generated if missing)."),
    results: Path = typer.Option(None, help="Results store (default: results/)."),
    reports: Path = typer.Option(None, "--reports", help="Where tables and figures go (default: $BENCH3D_REPORTS, else reports/ next to the results store)."),
) -> None:
    """Every seed method beside its baselines on a small synthetic world, in one table: LiMA and CMCR vs random,
    ScaLR and SLidR on LiDAR segmentation (linear probe, 1 % finetune); GeoMIM and MIM4D vs their encoders at
    random init and ImageNet init on the BEV map and 3D detection probes; plus the pretraining cost vs frames
    figure."""
    from bench3d.demo import run_demo

    with epoch_progress() as on_epoch:
        from bench3d.paths import reports_dir, results_dir

        out = run_demo(dataroot, results, reports or reports_dir(results or results_dir()), on_epoch)
    s = out.summary
    table = Table("table", "records", title=f"{s.dataroot} ({s.version}): {s.keyframes} keyframes, {s.points} points")
    for name, n in s.table_sizes.items():
        table.add_row(name, str(n))
    console.print(table)
    if s.missing_eval_classes:
        console.print(f"[yellow]eval classes without points: {s.missing_eval_classes}")
    console.print(f"preview: {out.preview}")
    overview = Table("method", *(f"{c.task}\n{column_label(c.protocol, c.fraction)}\n{c.score.label}"
                                 for c in out.table.columns), title=out.table.dataset + ": mean ± 95 % CI (runs)")
    for row, cells in out.table.cells.items():
        overview.add_row(row, *(out.table.format_cell(cells.get(c.label)) for c in out.table.columns))
    console.print(overview)
    costs = Table("run", "wall (s)", title="what each step cost (as first recorded; cached runs are not rerun)")
    for what, seconds in out.costs:
        costs.add_row(what, f"{seconds:.0f}")
    costs.add_row("total", f"{sum(s for _, s in out.costs):.0f}")
    console.print(costs)
    console.print(f"efficiency figure: {out.efficiency_figure}")
    console.print("wrote " + ", ".join(str(p) for p in out.table_paths))


def register(app: typer.Typer) -> None:
    app.command()(demo)
