"""`bench3d pretrain` and `bench3d run`: thin wrappers over bench3d.harness.Runner."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from bench3d.cli._options import AMP, GRAD_ACCUM, SYNC_BN, WORKERS, fractions, non_negative, parse_settings
from bench3d.cli._progress import epoch_progress

console = Console()


def _components(values: list[str] | None) -> dict[str, bool]:
    out = {}
    for v in values or []:
        name, _, state = v.partition("=")
        if state not in {"on", "off"}:
            raise typer.BadParameter(f"{v!r}: use NAME=on or NAME=off", param_hint="--component")
        out[name] = state == "on"
    return out


SET = typer.Option(None, "--set", help="Method-config value replacing the card preset's: KEY=VALUE (repeatable; "
                                       "joins the run id), e.g. --set teacher=lidar_ssl.")


def pretrain(
    method: str = typer.Option(..., help="Method name (bench3d list)."),
    dataset: str = typer.Option("synth", help="Dataset name (bench3d list)."),
    dataroot: Path = typer.Option(None, help="Dataset root (default: the dataset's own)."),
    preset: str = typer.Option("tiny", help="Scale preset: tiny (CPU) or paper (GPU)."),
    pretrain_seed: list[int] = typer.Option([0], callback=non_negative,
                                            help="Pretraining seed(s) (repeatable); one checkpoint each."),
    component: list[str] = typer.Option(None, help="Ablation: NAME=on|off (repeatable)."),
    setting: list[str] = SET,
    teacher_checkpoint: Path = typer.Option(None, help="Teacher weights: DINOv2 (hub layout) or ResNet-50 "
                                                       "(MoCo-v2 / torchvision) for the 2D teacher, or a LiDAR BEV model "
                                                       "for GeoMIM's `checkpoint` teacher."),
    results: Path = typer.Option(None, help="Results store (default: results/)."),
    device: str = typer.Option("cpu"),
    amp: str = AMP,
    workers: int = WORKERS,
    grad_accum: int = GRAD_ACCUM,
    sync_bn: bool = SYNC_BN,
) -> None:
    """Pretrain a method; writes a checkpoint and its own run record per pretraining seed."""
    check_names([method], [], dataset)
    from bench3d.harness.runner import Runner
    from bench3d.harness.specs import PretrainSpec
    from bench3d.results import ResultsStore

    with epoch_progress() as on_epoch:
        runner = Runner(ResultsStore(results), device, dataroot, on_epoch, amp, workers, grad_accum=grad_accum,
                        sync_bn=sync_bn)
        for seed in pretrain_seed:
            spec = PretrainSpec(method, dataset, preset, seed, tuple(sorted(_components(component).items())),
                                str(teacher_checkpoint) if teacher_checkpoint else None,
                                tuple(sorted(parse_settings(setting).items())))
            run_id, ckpt = runner.pretrain(spec)
            if runner.parallel.is_main:
                console.print(f"pretraining run [bold]{run_id}[/] (pretraining seed {seed}): checkpoint {ckpt}")


def run(
    method: list[str] = typer.Option(..., help="Method name(s)."),
    protocol: list[str] = typer.Option(..., help="Protocol name(s): linear_probe, finetune, full_finetune."),
    dataset: str = typer.Option("synth"),
    dataroot: Path = typer.Option(None),
    preset: str = typer.Option("tiny"),
    fraction: list[float] = typer.Option(None, callback=fractions,
                                         help="Label fractions in (0, 1] (default: the protocol card's)."),
    draw: list[int] = typer.Option(None, callback=non_negative, help="Split draws (default: the card's)."),
    seed: list[int] = typer.Option(None, callback=non_negative, help="Downstream seeds (default: the card's)."),
    pretrain_seed: list[int] = typer.Option(None, callback=non_negative,
                                            help="Pretraining seeds; for random init, its init seed "
                                                 "(default: the card's `pretrain_seeds`)."),
    component: list[str] = typer.Option(None, help="Ablation: NAME=on|off (repeatable)."),
    setting: list[str] = SET,
    teacher_checkpoint: Path = typer.Option(None),
    checkpoint: Path = typer.Option(None, help="Evaluate this checkpoint file instead of the suite's own "
                                               "pretraining (matched to its pretraining record by sha256)."),
    unrecorded_checkpoint: bool = typer.Option(False, help="Allow --checkpoint without a pretraining record in "
                                                           "the store; the run records it as a user checkpoint."),
    pretrained_on: str = typer.Option(None, help="Pretrain on this dataset and run the protocol on --dataset "
                                                 "(cross-dataset transfer, e.g. synth -> synth-semantickitti)."),
    pretrain_dataroot: Path = typer.Option(None, help="Root of the --pretrained-on dataset (default: its own)."),
    results: Path = typer.Option(None, help="Results store (default: results/)."),
    device: str = typer.Option("cpu"),
    amp: str = AMP,
    workers: int = WORKERS,
    grad_accum: int = GRAD_ACCUM,
    sync_bn: bool = SYNC_BN,
    keep_weights: bool = typer.Option(False, help="Keep each run's trained model (weights/<run id>.pt, for "
                                                  "`bench3d show --run`); it joins the run id."),
    executor: str = typer.Option(None, help="Run the matrix through submitit: slurm (a job array) or local."),
    jobs: int = typer.Option(1, min=1, help="local: runs side by side; slurm: the array's parallelism."),
    partition: str = typer.Option(None, help="SLURM partition (--executor slurm)."),
    gpus_per_job: int = typer.Option(0, min=0, help="GPUs per SLURM job."),
    timeout_min: int = typer.Option(60, min=1, help="Time limit per job, minutes."),
) -> None:
    """Run protocol(s) against method(s): the run matrix; finished runs are skipped, killed ones resume."""
    check_names(method, protocol, dataset)
    if pretrained_on is not None:
        check_names([], [], pretrained_on)
    if pretrain_dataroot is not None and pretrained_on in (None, dataset):
        raise typer.BadParameter("needs --pretrained-on naming another dataset than --dataset",
                                 param_hint="--pretrain-dataroot")
    dataroots = ({pretrained_on: str(pretrain_dataroot) if pretrain_dataroot else None}
                 if pretrained_on not in (None, dataset) else None)
    from bench3d.harness.matrix import expand_matrix
    from bench3d.harness.runner import Runner
    from bench3d.results import ResultsStore

    specs = expand_matrix(method, protocol, dataset, preset, fractions=fraction or None, draws=draw or None,
                          seeds=seed or None, pretrain_seeds=pretrain_seed or None, components=_components(component),
                          teacher_checkpoint=str(teacher_checkpoint) if teacher_checkpoint else None,
                          checkpoint=str(checkpoint) if checkpoint else None,
                          unrecorded_checkpoint=unrecorded_checkpoint, settings=parse_settings(setting),
                          pretrained_on=pretrained_on)
    console.print(f"{len(specs)} run(s)")
    if executor is not None:
        _submit(specs, executor, jobs, partition, gpus_per_job, timeout_min, results, device, dataroot, amp, workers,
                grad_accum, sync_bn, keep_weights, dataroots)
        return
    with epoch_progress() as on_epoch:
        runner = Runner(ResultsStore(results), device, dataroot, on_epoch, amp, workers, grad_accum=grad_accum,
                        sync_bn=sync_bn, keep_weights=keep_weights, dataroots=dataroots)
        for spec in specs:
            rec = runner.evaluate(spec)
            if not runner.parallel.is_main:
                continue
            score = rec.score
            value = rec.metrics[score.name] * (100 if score.percent else 1)
            console.print(f"{spec.method} {spec.protocol} {spec.fraction:g} draw {spec.draw} seed {spec.seed} "
                          f"pretrain seed {spec.pretrain_seed}: {score.label} {value:.2f} [{rec.run_id}]")


def convert_checkpoint(
    old: Path = typer.Argument(..., help="Checkpoint in the old single-encoder format."),
    new: Path = typer.Argument(..., help="Where to write it in the backbones format (must not exist)."),
) -> None:
    """Rewrite an old single-encoder checkpoint as `{backbones: {lidar: ...}, configs: {lidar: ...}}`."""
    from bench3d.models.checkpoint import convert_legacy_checkpoint

    console.print(f"wrote {convert_legacy_checkpoint(old, new)}")


def _submit(specs, executor: str, jobs: int, partition: str | None, gpus_per_job: int, timeout_min: int,
            results: Path | None, device: str, dataroot: Path | None, amp: str, workers: int, grad_accum: int,
            sync_bn: bool, keep_weights: bool, dataroots: dict[str, str | None] | None = None) -> None:
    from bench3d.harness.executors import RunnerSettings, submit_matrix
    from bench3d.paths import results_dir

    settings = RunnerSettings(str(results or results_dir()), device, str(dataroot) if dataroot else None, amp, workers,
                              grad_accum=grad_accum, sync_bn=sync_bn, keep_weights=keep_weights, dataroots=dataroots)
    report = submit_matrix(specs, settings, executor, jobs, partition, gpus_per_job, timeout_min)
    console.print(f"{len(report.skipped)} finished run(s) skipped; {len(report.submitted)} submitted "
                  f"({executor}); {len(report.run_ids)} record(s) written; logs in {report.log_folder}")
    for chunk, error, log_path in report.failures:
        console.print(f"[red]failed[/]: {', '.join(f'{s.method}/{s.protocol}/seed {s.seed}' for s in chunk)}: "
                      f"{error} (log: {log_path})")
    if report.failures:
        raise typer.Exit(1)


def check_names(methods: list[str], protocols: list[str], dataset: str) -> None:
    """Unknown names fail at once, before torch and the data are loaded."""
    from bench3d.cards import method_names, protocol_names
    from bench3d.datasets import dataset_names
    from bench3d.errors import UnknownNameError

    for kind, names, known in (("method", methods, method_names()), ("protocol", protocols, protocol_names()),
                               ("dataset", [dataset], dataset_names())):
        for name in names:
            if name not in known:
                raise UnknownNameError(kind, name, known)


def register(app: typer.Typer) -> None:
    app.command()(pretrain)
    app.command()(run)
    app.command("check-method")(check_method)
    app.command("convert-checkpoint")(convert_checkpoint)


def check_method(method: str = typer.Argument(..., help="Method name (bench3d list).")) -> None:
    """Mock run of an adapter on a tiny synthetic release: pretrain briefly, reload every backbone strictly,
    one training step and an evaluation of every task that consumes it."""
    check_names([method], [], "synth")
    from bench3d.harness.mock import mock_run

    console.print(mock_run(method))
    console.print(f"[green]{method}: ok")
