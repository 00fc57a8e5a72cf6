"""Rich progress for long work: one bar per run, advanced by the runner's epoch callback."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

EpochCallback = Callable[[str, int, int, dict[str, float]], None]  # as bench3d.harness.runner


@contextmanager
def epoch_progress() -> Iterator[EpochCallback]:
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("{task.fields[loss]}"), transient=False,
                  disable=os.environ.get("RANK", "0") != "0") as progress:  # torchrun: rank 0 reports
        tasks: dict[str, int] = {}

        def on_epoch(run_id: str, epoch: int, epochs: int, losses: dict[str, float]) -> None:
            if run_id not in tasks:
                tasks[run_id] = progress.add_task(f"run {run_id[:8]}", total=epochs, loss="")
            loss = " ".join(f"{k}={v:.3f}" for k, v in losses.items())
            progress.update(tasks[run_id], completed=epoch, loss=loss)

        yield on_epoch
