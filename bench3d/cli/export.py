"""`bench3d export`: a pretrained backbone in another framework's format (thin layer over bench3d.interop)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from bench3d.cli._errors import user_errors

console = Console()


def export(
    checkpoint: Path = typer.Option(..., help="A bench3d pretraining checkpoint (a run's checkpoint.pt)."),
    backbone: str = typer.Option("lidar", help="Which backbone of the checkpoint (its `backbones` name)."),
    to: str = typer.Option("mmdet3d", help="Target framework."),
    out: Path = typer.Option(..., help="Weights file to write (.pth); the config goes beside it as .py."),
    prefix: str = typer.Option("", help="Prefix for every key, e.g. 'backbone.' for a whole-model `load_from`."),
    check_frames: int = typer.Option(0, min=0, help="Then run the export in mmdet3d on this many keyframes and "
                                                    "report the largest feature difference (openmmlab extra)."),
    dataset: str = typer.Option("synth", help="Dataset of the check frames."),
    dataroot: Path = typer.Option(None, help="Its root (default: the dataset's)."),
) -> None:
    """Export a pretrained LiDAR backbone for mmdetection3d's MinkUNetBackbone (spconv), loadable strictly."""
    from bench3d.interop.export import export_backbone

    with user_errors():
        result = export_backbone(checkpoint, out, backbone=backbone, to=to, prefix=prefix)
    console.print(f"wrote {result.weights} ({result.num_tensors} tensors) and {result.config}")
    console.print(f"mmdet3d backbone: {result.backbone_config}")
    if check_frames:
        from bench3d.interop.mmdet3d_check import check_export

        with user_errors():
            report = check_export(out, checkpoint, backbone, dataset, dataroot, check_frames)
        console.print(f"mmdet3d vs bench3d on {report.frames} keyframes ({report.points:,} points, {report.voxels:,} "
                      f"voxels): largest |difference| {report.max_abs_difference:.3g} "
                      f"(largest |feature| {report.max_abs_feature:.3g})")



def register(app: typer.Typer) -> None:
    app.command()(export)
