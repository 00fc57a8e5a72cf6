"""Checks of command-line values, run by typer before any work: a bad value is a usage error (exit 2)
that names the flag and the fix."""

from __future__ import annotations

import math
from pathlib import Path

import typer


def output_file(value: Path | None) -> Path | None:
    """An output file path: not a folder."""
    if value is not None and value.is_dir():
        raise typer.BadParameter(f"{value} is a folder; give a file path")
    return value


def fractions(values: list[float] | None) -> list[float] | None:
    for v in values or []:
        if not (math.isfinite(v) and 0 < v <= 1):
            raise typer.BadParameter(f"{v}: a label fraction must be in (0, 1], e.g. 0.01 for 1 %")
    return values


def non_negative(values: list[int] | None) -> list[int] | None:
    for v in values or []:
        if v < 0:
            raise typer.BadParameter(f"{v}: must be >= 0")
    return values


# Options every training command shares (pretrain, run, ablate, efficiency): one definition, one help text.
AMP = typer.Option("off", help="Mixed precision of training steps: off, bf16 (CUDA or CPU) or fp16 "
                               "(CUDA, with a grad scaler). Part of the run id.")
WORKERS = typer.Option(0, min=0, help="DataLoader worker processes preparing samples.")
GRAD_ACCUM = typer.Option(1, min=1, help="Split each batch into K micro-batches run in turn (what K torchrun "
                                         "ranks would run): the one-GPU equivalent of DDP.")
SYNC_BN = typer.Option(False, help="Under torchrun on CUDA: BatchNorm statistics over all ranks.")


def parse_settings(values: list[str] | None) -> dict[str, object]:
    """KEY=VALUE pairs (VALUE read as YAML: numbers, booleans, lists) -> method-config overrides."""
    import yaml

    out: dict[str, object] = {}
    for v in values or []:
        key, sep, raw = v.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"{v!r}: use KEY=VALUE, e.g. teacher=lidar_ssl", param_hint="--set")
        out[key] = yaml.safe_load(raw)
    return out
