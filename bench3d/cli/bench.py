"""`bench3d bench`: speed ratios against the reference tools, measured in the same run."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console

console = Console()
bench_app = typer.Typer(help="Speed ratios against a baseline measured in the same run.", no_args_is_help=True)


@bench_app.command("reader")
def reader(dataroot: Path = typer.Option(None, help="Release (default: the embedded synthetic world)."),
           version: str = typer.Option("v1.0-mini"), samples: int = typer.Option(20, min=1),
           repeats: int = typer.Option(3, min=1)) -> None:
    """Full frame (LiDAR + 6 images + point-pixel pairs): bench3d reader vs devkit get_sample_data + map_pointcloud_to_image."""
    from bench3d.data.nuscenes.bench import compare_frame_speed
    from bench3d.paths import default_synth_root

    console.print_json(json.dumps(compare_frame_speed(dataroot or default_synth_root(), version, samples, repeats)))


@bench_app.command("metrics")
def metrics(points: int = typer.Option(2_000_000, min=1), repeats: int = typer.Option(5, min=1)) -> None:
    """Confusion-matrix accumulation: bench3d vs sklearn.metrics.confusion_matrix."""
    from bench3d.metrics.bench import compare_confusion_speed

    console.print_json(json.dumps(compare_confusion_speed(points, repeats)))


def register(app: typer.Typer) -> None:
    app.add_typer(bench_app, name="bench")
