"""`bench3d show`: one frame to PNG (six images with projected points, bird's-eye view with boxes and,
with --bev-map, the map layers under it; with --run, a kept model's prediction beside the ground truth)."""

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
    run: str = typer.Option(None, help="Run id of a kept model (bench3d run ... --keep-weights): draw its "
                                       "prediction (boxes or map masks) beside the ground truth; default frame: "
                                       "the first validation keyframe."),
    results: Path = typer.Option(None, help="Results store holding --run (default: results/)."),
    dataset: str = typer.Option("synth", help="Dataset of the frame (with --run)."),
    min_score: float = typer.Option(0.3, min=0.0, max=1.0, help="Draw detected boxes scoring at least this "
                                                                "(with --run on a detection task)."),
) -> None:
    """Render one frame to PNG."""
    from bench3d.data.nuscenes import NuScenesReader
    from bench3d.viz.frame_figure import render_frame

    root = dataroot or default_synth_root()
    reader = NuScenesReader(root, version)
    prediction, title = None, ""
    if run is not None:
        from bench3d.cli._errors import user_errors
        from bench3d.datasets import resolve_dataset
        from bench3d.harness.predictions import first_eval_token, load_kept_model, predict_frame
        from bench3d.results import ResultsStore

        with user_errors():
            ds = resolve_dataset(dataset, root)
            kept = load_kept_model(ResultsStore(results), run, ds)
            if sample is None and scene is None:
                sample = first_eval_token(ds)
    if sample is None:
        seq = reader.sequences([scene] if scene else None)[0]
        if not 0 <= index < len(seq):
            raise typer.BadParameter(f"scene {seq.name} has keyframes 0..{len(seq) - 1}", param_hint="--index")
        sample = seq.sample_tokens[index]
    if run is not None:
        with user_errors():
            prediction = predict_frame(kept, ds, sample).above(min_score)
        r = kept.record
        value = r.metrics[r.score.name] * (100 if r.score.percent else 1)
        title = (f"run {r.run_id}: {r.method} · {r.protocol} · seed {r.seed}  ({r.score.label} {value:.2f} over "
                 f"{r.metrics.get('eval_frames', '?')} frames)  ·  sample {sample}")
        bev_map = bev_map or prediction.bev_masks is not None  # map predictions sit beside the true map
    masks = reader.bev_map(sample) if bev_map else None
    path = render_frame(reader.frame(sample, sweeps=sweeps), out, bev_map=masks, prediction=prediction, title=title)
    typer.echo(f"wrote {path}")


def register(app: typer.Typer) -> None:
    app.command()(show)
