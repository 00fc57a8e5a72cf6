"""`bench3d demo`: the README's main command (embedded benchmark on the synthetic world)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markdown import Markdown
from rich.table import Table

from bench3d.cli._progress import epoch_progress

console = Console()


def demo(
    dataroot: Path = typer.Option(None, help="Synthetic release (default: data/synth-mini, generated if missing)."),
    results: Path = typer.Option(None, help="Results store (default: results/)."),
    reports: Path = typer.Option(None, "--reports", help="Where tables and figures go (default: $BENCH3D_REPORTS, else reports/ next to the results store)."),
) -> None:
    """Synthetic world -> pretrain ScaLR -> LP and 1 % finetune for random and ScaLR -> comparison table;
    camera rows: random vs ImageNet init on the BEV map segmentation probe -> second table."""
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
    console.print(Markdown(out.table_markdown))
    if out.camera_markdown:
        console.print(Markdown(out.camera_markdown))
    console.print("wrote " + ", ".join(str(p) for p in out.table_paths))


def register(app: typer.Typer) -> None:
    app.command()(demo)
