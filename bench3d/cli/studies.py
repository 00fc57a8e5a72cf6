"""`bench3d efficiency` and `bench3d ablate`."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markdown import Markdown

from bench3d.cli._options import AMP, WORKERS, non_negative, parse_settings
from bench3d.cli._progress import epoch_progress
from bench3d.cli.run import check_names
from bench3d.paths import reports_dir

console = Console()


def efficiency(
    method: list[str] = typer.Option(None, help="Method(s), one curve each in the same report (default: lima)."),
    frames: str = typer.Option("1,2,4,6,8", help="Comma-separated numbers of frames."),
    dataset: str = typer.Option("synth"),
    dataroot: Path = typer.Option(None),
    preset: str = typer.Option("tiny"),
    steps: int = typer.Option(10, min=1, help="Timed steps per setting (median reported)."),
    warmup: int = typer.Option(3, min=0),
    no_bank_comparison: bool = typer.Option(False, help="Skip the memory-bank-off settings."),
    component: str = typer.Option(None, help="Compare this component on and off (default: the method's cache "
                                             "component, e.g. LiMA's memory_bank)."),
    results: Path = typer.Option(None),
    reports: Path = typer.Option(None, "--reports", help="Report folder (default: $BENCH3D_REPORTS, else reports/ next to the results store)."),
    device: str = typer.Option("cpu"),
    amp: str = AMP,
    workers: int = WORKERS,
) -> None:
    """Pretraining step time and peak memory vs number of frames, with a component on and off (default: the
    method's cache); the report gives each on/off time ratio. Several --method: their curves share the report, and
    each setting's time and memory are also given over the first method's (the baseline) at the same frames."""
    methods = method or ["lima"]
    check_names(methods, [], dataset)
    from bench3d.harness.efficiency_runner import run_efficiency
    from bench3d.harness.runner import Runner
    from bench3d.reports.efficiency import write_efficiency_report
    from bench3d.results import ResultsStore

    try:
        counts = [int(f) for f in frames.split(",")]
    except ValueError:
        raise typer.BadParameter(f"{frames!r}: give integers like 1,2,4,6,8", param_hint="--frames") from None
    runner = Runner(ResultsStore(results), device, dataroot, amp=amp, workers=workers)
    records = [record for name in methods
               for record in run_efficiency(runner, name, counts, dataset, preset, steps, warmup,
                                            not no_bank_comparison, component=component)]
    baseline = methods[0] if len(methods) > 1 else None
    paths, _ = write_efficiency_report(records, reports or reports_dir(runner.store.root), baseline)
    console.print(Markdown(paths[1].read_text()))
    console.print("wrote " + ", ".join(str(p) for p in paths))


def ablate(
    method: str = typer.Option("lima"),
    protocol: str = typer.Option("linear_probe"),
    dataset: str = typer.Option("synth"),
    dataroot: Path = typer.Option(None),
    preset: str = typer.Option("tiny"),
    seed: list[int] = typer.Option(None, callback=non_negative, help="Seeds (default: the protocol card's)."),
    pretrain_seed: list[int] = typer.Option(None, callback=non_negative,
                                            help="Pretraining seeds (default: the protocol card's)."),
    variant: list[str] = typer.Option(None, help="Only these variants (full, -<component>, <key>=<value>)."),
    axis: list[str] = typer.Option(None, help="Study axis: KEY=V1,V2 adds a variant per value of a method setting "
                                              "(e.g. teacher=lidar_det,lidar_ssl); repeatable."),
    setting: list[str] = typer.Option(None, "--set", help="Method-config value for every variant, the full one "
                                                          "included: KEY=VALUE (repeatable), e.g. --set epochs=10."),
    results: Path = typer.Option(None),
    reports: Path = typer.Option(None, "--reports", help="Report folder (default: $BENCH3D_REPORTS, else reports/ next to the results store)."),
    device: str = typer.Option("cpu"),
    amp: str = AMP,
    workers: int = WORKERS,
) -> None:
    """Run the protocol with each component switched off in turn; table of deltas vs the full method."""
    check_names([method], [protocol], dataset)
    from bench3d.harness.ablation import run_ablation
    from bench3d.harness.runner import Runner
    from bench3d.reports.ablation import write_ablation_report
    from bench3d.results import ResultsStore

    with epoch_progress() as on_epoch:
        runner = Runner(ResultsStore(results), device, dataroot, on_epoch, amp, workers)
        base = parse_settings(setting)
        records = run_ablation(runner, method, protocol, dataset, preset, seed or None, variant or None,
                               pretrain_seed or None, _axes(axis), base or None)
    paths, text = write_ablation_report(records, method, protocol, reports or reports_dir(runner.store.root), base)
    console.print(Markdown(text))
    console.print("wrote " + ", ".join(str(p) for p in paths))


def _axes(values: list[str] | None) -> dict[str, list[object]]:
    import yaml

    out: dict[str, list[object]] = {}
    for v in values or []:
        key, sep, raw = v.partition("=")
        if not sep or not key or not raw:
            raise typer.BadParameter(f"{v!r}: use KEY=V1,V2", param_hint="--axis")
        out[key] = [yaml.safe_load(x) for x in raw.split(",")]
    return out


def register(app: typer.Typer) -> None:
    app.command()(efficiency)
    app.command()(ablate)
