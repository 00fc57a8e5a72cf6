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
           repeats: int = typer.Option(3, min=1),
           image_size: str = typer.Option(None, help="HxW a consumer asks for (e.g. 225x400, the tiny presets' "
                                                     "teacher input); larger images decode at that size."),
           format: str = typer.Option("nuscenes", "--format", help="nuscenes, semantickitti or waymo.")) -> None:
    """Full frame (LiDAR + 6 images + point-pixel pairs): bench3d reader vs devkit get_sample_data + map_pointcloud_to_image.
    With --format semantickitti: scans (points + labels) vs a plain numpy read of the same files; with --format waymo:
    TOP points and labels vs a plain pyarrow read and numpy conversion of the same rows."""
    if format == "waymo":
        from bench3d.data.waymo.bench import compare_waymo_speed

        if dataroot is None:
            raise typer.BadParameter("give the Waymo v2 release (its folder holding training/)", param_hint="--dataroot")
        console.print_json(json.dumps(compare_waymo_speed(dataroot, samples, repeats)))
        return
    if format == "semantickitti":
        from bench3d.data.semantickitti.bench import compare_scan_speed

        if dataroot is None:
            raise typer.BadParameter("give the SemanticKITTI release (its folder holding sequences/)",
                                     param_hint="--dataroot")
        console.print_json(json.dumps(compare_scan_speed(dataroot, samples, repeats)))
        return
    from bench3d.data.nuscenes.bench import compare_frame_speed
    from bench3d.paths import default_synth_root

    size = _pair(image_size, "x", "--image-size") if image_size else None
    console.print_json(json.dumps(compare_frame_speed(dataroot or default_synth_root(), version, samples, repeats,
                                                      size)))


@bench_app.command("metrics")
def metrics(points: int = typer.Option(2_000_000, min=1), repeats: int = typer.Option(5, min=1)) -> None:
    """Confusion-matrix accumulation: bench3d vs sklearn.metrics.confusion_matrix."""
    from bench3d.metrics.bench import compare_confusion_speed

    console.print_json(json.dumps(compare_confusion_speed(points, repeats)))


def _pair(text: str, sep: str, flag: str) -> tuple[int, int]:
    try:
        a, b = (int(x) for x in text.lower().split(sep))
    except ValueError:
        raise typer.BadParameter(f"{text!r}: give two integers like 3{sep}4", param_hint=flag) from None
    return a, b


@bench_app.command("memory")
def memory(small: str = typer.Option("3x4", help="Small world: scenes x samples per scene."),
           large: str = typer.Option("8x20", help="Large world: scenes x samples per scene."),
           image_size: str = typer.Option("224x400", help="Image size HxW of both worlds."),
           method: str = typer.Option("scalr"), epochs: int = typer.Option(1, min=1),
           workers: int = typer.Option(0, min=0)) -> None:
    """Peak RSS of the same pretraining on a small and a large synthetic world, and their ratio."""
    from bench3d.harness.memory_bench import compare_pretraining_memory

    result = compare_pretraining_memory(_pair(small, "x", "--small"), _pair(large, "x", "--large"),
                                        _pair(image_size, "x", "--image-size"), method, epochs, workers)
    console.print_json(json.dumps(result))


@bench_app.command("loader")
def loader(dataroot: Path = typer.Option(None, help="Synthetic release (default: the embedded world)."),
           method: str = typer.Option("slidr"), workers: int = typer.Option(2, min=1),
           samples: int = typer.Option(40, min=1)) -> None:
    """One pretraining epoch: cold vs warm disk cache, 0 vs N DataLoader workers (ratios in one run)."""
    from bench3d.harness.loader_bench import compare_epoch_speed

    console.print_json(json.dumps(compare_epoch_speed(dataroot, method, workers, samples)))


@bench_app.command("frame-step")
def frame_step(dataroot: Path = typer.Option(..., help="A v1.0-mini release, e.g. ../shared/real-nuscenes-frame."),
               method: list[str] = typer.Option(["scalr", "lima"], help="Method(s); LiMA runs with T = 1."),
               device: str = typer.Option("cpu"),
               preset: str = typer.Option("tiny", help="Method preset (`paper`: the published settings)."),
               teacher_checkpoint: list[Path] = typer.Option(
                   [], help="2D teacher weights (DINOv2, ResNet-50 MoCo-v2); each method takes the one of its "
                            "preset's teacher kind.")) -> None:
    """One pretraining step per method on the release's first keyframe: time, peak memory, loss."""
    from bench3d.harness.frame_step import pretraining_step, teacher_checkpoint_for

    results = [pretraining_step(dataroot, m, {"frames": 1} if m == "lima" else None, device, preset=preset,
                                teacher_checkpoint=teacher_checkpoint_for(m, preset, teacher_checkpoint))
               for m in method]
    console.print_json(json.dumps(results))


@bench_app.command("device")
def device_check(device: str = typer.Option("cuda", help="Device to check (cuda, cuda:N; cpu works too)."),
                 dataroot: Path = typer.Option(None, help="Synthetic release (default: the embedded world)."),
                 amp: list[str] = typer.Option(["off", "bf16", "fp16"], help="Mixed precision modes to run."),
                 out: Path = typer.Option(None, help="Also write the rows to this JSON file.")) -> None:
    """Every method's pretraining steps and every task's step on a device, per --amp mode: time, peak memory."""
    from bench3d.harness.device_check import device_check as run_check
    from bench3d.paths import write_text_atomic

    rows = run_check(device, dataroot, amp)
    if out is not None:
        write_text_atomic(out, json.dumps(rows, indent=1))
    console.print_json(json.dumps(rows))
    if any(r["status"] == "error" for r in rows):
        raise typer.Exit(1)


@bench_app.command("bev")
def bev(dataroot: Path = typer.Option(None, help="Synthetic release (default: the embedded world).")) -> None:
    """LSS BEV pooling vs a naive scatter loop (ratio), and the camera BEV stack's step time (tiny preset)."""
    from bench3d.harness.bev_bench import camera_stack_step, compare_bev_pooling

    console.print_json(json.dumps({"pooling": compare_bev_pooling(), "camera_step": camera_stack_step(dataroot)}))


def register(app: typer.Typer) -> None:
    app.add_typer(bench_app, name="bench")
