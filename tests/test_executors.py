"""Sweeps through submitit: the run matrix on submitit's local executor, 4 runs into one store from 2 jobs
side by side, every record intact; a rerun submits nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench3d.cli.main import main
from bench3d.errors import ConfigError
from bench3d.harness.executors import RunnerSettings, submit_matrix
from bench3d.harness.matrix import expand_matrix
from bench3d.results import ResultsStore


def test_local_executor_runs_the_matrix_and_a_rerun_submits_nothing(harness_release: Path, short_cards: Path,
                                                                     tmp_path: Path, capsys) -> None:
    store = tmp_path / "store"
    specs = expand_matrix(["random"], ["finetune"], "synth", fractions=[0.25], draws=[0, 1], seeds=[0, 1])
    settings = RunnerSettings(str(store), dataroot=str(harness_release))
    report = submit_matrix(specs, settings, "local", jobs=2)
    assert report.failures == [] and len(report.submitted) == 4 and len(set(report.run_ids)) == 4
    records = ResultsStore(store).records()
    assert sorted(r.run_id for r in records) == sorted(report.run_ids)
    assert sorted((r.draw, r.seed) for r in records) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    again = submit_matrix(specs, settings, "local", jobs=2)
    assert again.submitted == [] and len(again.skipped) == 4  # finished ids are skipped before submission
    with pytest.raises(SystemExit) as exit_info:  # the CLI says the same
        main(["run", "--method", "random", "--protocol", "finetune", "--fraction", "0.25", "--draw", "0",
              "--draw", "1", "--seed", "0", "--seed", "1", "--executor", "local", "--jobs", "2",
              "--dataroot", str(harness_release), "--results", str(store)])
    assert exit_info.value.code == 0 and "4 finished run(s) skipped; 0 submitted" in capsys.readouterr().out


def test_slurm_needs_a_partition(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--partition"):
        submit_matrix([], RunnerSettings(str(tmp_path)), "slurm")
