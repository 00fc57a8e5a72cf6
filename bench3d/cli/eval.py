"""`bench3d eval ...`: score prediction files with the official conventions (thin layer over bench3d.metrics)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console
from rich.table import Table

from bench3d.cli._errors import user_errors
from bench3d.cli._options import output_file
from bench3d.metrics.reducers import SegmentationScores
from bench3d.paths import write_text_atomic

eval_app = typer.Typer(help="Evaluate predictions against a dataset with its official metric.", no_args_is_help=True)
console = Console()


def _fmt(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{100 * value:.2f}"


def _show_segmentation(title: str, scores: SegmentationScores) -> None:
    table = Table(title=title, caption=f"reducer: {scores.reducer} | points: {scores.num_points:,}")
    table.add_column("class")
    table.add_column("IoU %", justify="right")
    for name, iou in scores.iou_per_class.items():
        table.add_row(name, _fmt(iou))
    table.add_section()
    table.add_row("mIoU", _fmt(scores.miou), style="bold")
    table.add_row("accuracy", _fmt(scores.accuracy))
    console.print(table)


def _write_json(path: Optional[Path], payload: dict[str, Any]) -> None:
    if path is not None:
        write_text_atomic(path, json.dumps(payload, indent=2))
        console.print(f"wrote {path}")


@eval_app.command("lidarseg")
def lidarseg(
    dataroot: Path = typer.Option(..., help="nuScenes root (holds <version>/ and lidarseg/)."),
    version: str = typer.Option("v1.0-mini", help="Release version folder, e.g. v1.0-trainval."),
    eval_set: str = typer.Option("mini_val", help="Devkit split name, or a split of <version>/splits.json."),
    predictions: Path = typer.Option(..., help="Submission folder holding lidarseg/<eval_set>/*_lidarseg.bin."),
    json_out: Optional[Path] = typer.Option(None, "--json", callback=output_file, help="Also write the scores and matrix here."),
) -> None:
    """nuScenes-lidarseg mIoU of a submission folder (devkit LidarSegEval convention)."""
    from bench3d.metrics.nuscenes_lidarseg import evaluate_lidarseg_submission

    with user_errors():
        result = evaluate_lidarseg_submission(dataroot, version, eval_set, predictions)
    _show_segmentation(f"nuScenes-lidarseg {version} {eval_set} ({result.num_samples} keyframes)", result.scores)
    _write_json(json_out, {
        "task": "lidarseg", "dataset": "nuscenes", "version": version, "eval_set": eval_set,
        "num_samples": result.num_samples, "scores": result.scores.to_dict(),
        "confusion_matrix": result.confusion.to_list(),
    })  # fmt: skip


@eval_app.command("semantickitti")
def semantickitti(
    dataroot: Path = typer.Option(..., help="SemanticKITTI dataset root (holds sequences/NN/labels)."),
    predictions: Path = typer.Option(..., help="Folder holding sequences/NN/predictions/*.label (raw ids)."),
    split: str = typer.Option("valid", help="Sequences to score: valid (08) or train."),
    json_out: Optional[Path] = typer.Option(None, "--json", callback=output_file, help="Also write the scores and matrix here."),
) -> None:
    """SemanticKITTI mIoU and accuracy (evaluate_semantics.py convention)."""
    from bench3d.metrics.semantickitti_eval import SPLITS, evaluate_semantickitti_predictions

    if split not in SPLITS:
        raise typer.BadParameter(f"split must be one of {', '.join(SPLITS)}", param_hint="--split")
    with user_errors():
        result = evaluate_semantickitti_predictions(dataroot, predictions, SPLITS[split])
    _show_segmentation(f"SemanticKITTI {split} ({result.num_scans} scans)", result.scores)
    _write_json(json_out, {
        "task": "lidarseg", "dataset": "semantickitti", "split": split, "num_scans": result.num_scans,
        "scores": result.scores.to_dict(), "confusion_matrix": result.confusion.to_list(),
    })  # fmt: skip


@eval_app.command("det")
def det(
    dataroot: Path = typer.Option(..., help="nuScenes root."),
    version: str = typer.Option("v1.0-mini", help="Release version folder."),
    eval_set: str = typer.Option("mini_val", help="Devkit split name, or a split of <version>/splits.json."),
    results: Path = typer.Option(..., help="Results JSON in the official nuScenes detection format."),
    output_dir: Optional[Path] = typer.Option(None, help="Where the devkit writes metrics_summary.json."),
    json_out: Optional[Path] = typer.Option(None, "--json", callback=output_file, help="Also write the scores here."),
) -> None:
    """nuScenes detection mAP / NDS / TP errors, computed by nuscenes-devkit's DetectionEval."""
    from bench3d.metrics.detection import TP_ERROR_NAMES, evaluate_detection_results

    out = output_dir or results.with_name(f"{results.stem}_eval_{eval_set}")
    with user_errors():
        scores = evaluate_detection_results(dataroot, version, eval_set, results, out)
    table = Table(title=f"nuScenes detection {version} {eval_set}", caption=f"{scores.evaluator} | details: {out}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_row("mAP", f"{scores.mean_ap:.4f}", style="bold")
    table.add_row("NDS", f"{scores.nd_score:.4f}", style="bold")
    for key, label in TP_ERROR_NAMES.items():
        table.add_row(label, f"{scores.tp_errors[key]:.4f}")
    table.add_section()
    for name, ap in scores.class_aps.items():
        table.add_row(f"AP {name}", f"{ap:.4f}")
    console.print(table)
    _write_json(json_out, {"task": "det", "dataset": "nuscenes", "version": version, "eval_set": eval_set,
                           "output_dir": str(out), "scores": scores.to_dict()})  # fmt: skip


def register(app: typer.Typer) -> None:
    app.add_typer(eval_app, name="eval")
