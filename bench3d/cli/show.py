"""`bench3d show`: one frame to PNG (six images with projected points, bird's-eye view with boxes and,
with --bev-map, the map layers under it)."""

from __future__ import annotations

from pathlib import Path

import typer

from bench3d.paths import DEFAULT_SYNTH_VERSION, default_synth_root


def show(
    dataroot: Path = typer.Option(None, help="Release root (default: the embedded synthetic world)."),
    version: str = typer.Option(DEFAULT_SYNTH_VERSION, help="Table folder, e.g. v1.0-mini."),
    sample: str = typer.Option(None, help="Sample token; default: keyframe --index of --scene."),
    scene: str = typer.Option(None, help="Scene name (default: the first scene)."),
    index: int = typer.Option(0, help="Keyframe index within the scene."),
    sweeps: int = typer.Option(1, min=1, help="LiDAR sweeps to stack."),
    out: Path = typer.Option(Path("reports/frame.png"), help="Output PNG."),
    bev_map: bool = typer.Option(False, help="Draw the map-expansion layers (BEV map masks) under the BEV."),
) -> None:
    """Render one frame to PNG."""
    from bench3d.data.nuscenes import NuScenesReader
    from bench3d.viz.frame_figure import render_frame

    reader = NuScenesReader(dataroot or default_synth_root(), version)
    if sample is None:
        seq = reader.sequences([scene] if scene else None)[0]
        if not 0 <= index < len(seq):
            raise typer.BadParameter(f"scene {seq.name} has keyframes 0..{len(seq) - 1}", param_hint="--index")
        sample = seq.sample_tokens[index]
    masks = reader.bev_map(sample) if bev_map else None
    path = render_frame(reader.frame(sample, sweeps=sweeps), out, bev_map=masks)
    typer.echo(f"wrote {path}")


def register(app: typer.Typer) -> None:
    app.command()(show)
