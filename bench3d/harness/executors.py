"""Running a run matrix elsewhere: through submitit, on SLURM (a job array, one run per job) or on this
machine (`local`: K jobs side by side, each running its share of the matrix in turn). Finished runs are
skipped before anything is submitted; every job writes its own record into the shared store (safe for
concurrent writers; shared pretrainings are produced once under a lock); failures come back with their
log paths. No scheduler of our own: submitit submits, SLURM or the local executor runs."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from bench3d.errors import ConfigError
from bench3d.harness.runner import Runner
from bench3d.harness.specs import EvalSpec
from bench3d.results import ResultsStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunnerSettings:
    """What a job needs to build its own Runner (picklable)."""

    store: str
    device: str = "cpu"
    dataroot: str | None = None
    amp: str = "off"
    workers: int = 0
    threads: int | None = None  # torch threads per run (None: the job's default)
    grad_accum: int = 1
    sync_bn: bool = False
    keep_weights: bool = False
    dataroots: dict[str, str | None] | None = None  # other datasets' roots (Runner.dataroots)

    def runner(self) -> Runner:
        return Runner(ResultsStore(self.store), self.device, self.dataroot, amp=self.amp, workers=self.workers,
                      threads=self.threads, grad_accum=self.grad_accum, sync_bn=self.sync_bn,
                      keep_weights=self.keep_weights, dataroots=self.dataroots)


@dataclass
class SweepReport:
    skipped: list[EvalSpec] = field(default_factory=list)
    submitted: list[EvalSpec] = field(default_factory=list)
    run_ids: list[str] = field(default_factory=list)
    failures: list[tuple[list[EvalSpec], str, str]] = field(default_factory=list)  # (specs, error, log path)
    log_folder: str = ""


def run_specs(settings: RunnerSettings, specs: list[EvalSpec]) -> list[str]:
    """One job's work: its specs, in turn, in this process (the function submitit pickles)."""
    runner = settings.runner()
    return [runner.evaluate(spec).run_id for spec in specs]


def submit_matrix(specs: list[EvalSpec], settings: RunnerSettings, executor: str, jobs: int = 1,
                  partition: str | None = None, gpus_per_job: int = 0, timeout_min: int = 60,
                  log_folder: Path | None = None) -> SweepReport:
    try:
        import submitit
    except ImportError:
        raise ConfigError("--executor needs submitit: pip install 'bench3d[cluster]' (submitit==1.5.4)") from None
    if executor not in ("local", "slurm"):
        raise ConfigError(f"--executor {executor!r}: use local or slurm")
    if executor == "slurm" and not partition:
        raise ConfigError("--executor slurm needs --partition")
    report = SweepReport()
    if executor == "local":
        # K jobs share this machine's cores; oversubscribed OpenMP threads spin and crawl (4x measured).
        k = max(1, jobs)
        settings = replace(settings, threads=settings.threads or max(1, (os.cpu_count() or 1) // k))
    runner = settings.runner()
    for spec in specs:
        (report.skipped if runner.finished(spec) is not None else report.submitted).append(spec)
    folder = Path(log_folder) if log_folder else Path(settings.store) / "jobs"
    report.log_folder = str(folder)
    if not report.submitted:
        return report
    ex = submitit.AutoExecutor(folder=folder / "%j", cluster=executor)
    if executor == "slurm":
        ex.update_parameters(slurm_partition=partition, gpus_per_node=gpus_per_job, timeout_min=timeout_min,
                             slurm_array_parallelism=max(jobs, 1), name="bench3d")
        chunks = [[spec] for spec in report.submitted]  # a job array: one run per job
    else:
        ex.update_parameters(timeout_min=timeout_min)
        k = max(1, min(jobs, len(report.submitted)))
        chunks = [report.submitted[i::k] for i in range(k)]  # K jobs side by side
    submitted = ex.map_array(run_specs, [settings] * len(chunks), chunks)
    for chunk, job in zip(chunks, submitted):
        try:
            report.run_ids += job.result()
        except Exception as exc:  # noqa: BLE001 - a job's failure is reported, the others still count
            first = str(exc).strip().splitlines()
            report.failures.append((chunk, first[-1] if first else type(exc).__name__, str(job.paths.stderr)))
    return report
