"""`bench3d synth`: write the synthetic driving world as a nuScenes release (thin over bench3d.synth)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

_OPTION_FLAGS = {
    "scenes": "--scenes", "samples_per_scene": "--samples-per-scene", "seed": "--seed", "image_size": "--image-size",
    "lidar_beams": "--lidar-beams", "version": "--version", "workers": "--workers", "out": "--out",
    "format": "--format",
}


def synth(
    out: Path = typer.Option(..., "--out", help="Folder to write the release to (the devkit's dataroot)."),
    scenes: int = typer.Option(10, "--scenes", help="Number of scenes (mini: at most 10)."),
    samples_per_scene: int = typer.Option(20, "--samples-per-scene", help="Keyframes (2 Hz) per scene."),
    seed: int = typer.Option(0, "--seed", help="Same seed and options give byte-identical files."),
    image_size: str = typer.Option("112x200", "--image-size", help="HEIGHTxWIDTH; 900x1600 is full nuScenes size."),
    lidar_beams: int = typer.Option(32, "--lidar-beams", help="LiDAR beams between -30.67 and +10.67 degrees."),
    version: str = typer.Option("v1.0-mini", "--version", help="v1.0-mini or v1.0-trainval (official scene names)."),
    camera_sweeps: bool = typer.Option(True, "--camera-sweeps/--no-camera-sweeps",
                                       help="12 Hz images between keyframes."),
    lidar_sweeps: bool = typer.Option(True, "--lidar-sweeps/--no-lidar-sweeps", help="20 Hz sweeps between keyframes."),
    pixel_sidecars: bool = typer.Option(True, "--pixel-sidecars/--no-pixel-sidecars",
                                        help="Per-pixel class and depth PNGs under synthetic/."),
    workers: int = typer.Option(2, "--workers", help="Worker processes (does not change the output)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace a non-empty existing folder."),
    format: str = typer.Option("nuscenes", "--format", help="nuscenes, semantickitti (sequences/NN/..., the train "
                                                           "scenes as 00-07, 09, 10 and the val scenes as 08) or "
                                                           "waymo (v2 Parquet components; train scenes as training/ "
                                                           "segments, val scenes as validation/)."),
) -> None:
    """Generate a synthetic driving world written as a real nuScenes release (tables, LiDAR, cameras, lidarseg),
    as a SemanticKITTI release (`--format semantickitti`) or as a Waymo Open Dataset v2 release (`--format waymo`)."""
    if format not in ("nuscenes", "semantickitti", "waymo"):
        raise typer.BadParameter(f"{format!r}: choose nuscenes, semantickitti or waymo", param_hint="--format")
    from bench3d.synth import SynthConfig, SynthOptionError, generate_release, parse_image_size
    from bench3d.synth.generate import check_target

    try:
        cfg = SynthConfig(scenes=scenes, samples_per_scene=samples_per_scene, seed=seed,
                          image_size=parse_image_size(image_size), lidar_beams=lidar_beams, version=version,
                          camera_sweeps=camera_sweeps, lidar_sweeps=lidar_sweeps, pixel_sidecars=pixel_sidecars,
                          workers=workers)
        check_target(out.resolve(), overwrite)
        columns = (TextColumn("[bold]synth"), BarColumn(), MofNCompleteColumn(), TextColumn("sensor frames"),
                   TimeElapsedColumn(), TimeRemainingColumn())
        with Progress(*columns, transient=False) as bar:
            task = bar.add_task("frames", total=None)

            def update(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            if format == "semantickitti":
                from bench3d.data.semantickitti.synthetic import generate_semantickitti

                root = generate_semantickitti(out, cfg, overwrite=overwrite, progress=update)
            elif format == "waymo":
                from bench3d.data.waymo.synthetic import generate_waymo

                root = generate_waymo(out, cfg, overwrite=overwrite, progress=update)
            else:
                root = generate_release(out, cfg, overwrite=overwrite, progress=update)
    except SynthOptionError as err:
        raise typer.BadParameter(str(err), param_hint=_OPTION_FLAGS.get(err.option, err.option)) from None
    typer.echo(str(root))


def register(app: typer.Typer) -> None:
    app.command("synth")(synth)
