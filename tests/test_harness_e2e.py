"""The harness end to end on a small synthetic release: pretrain -> protocol -> record -> table.

Cards come from a test folder (BENCH3D_CARDS) with the shipped cards' fields and shorter schedules, so
the same code paths run in seconds.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from bench3d.errors import ConfigError, UnknownNameError
from bench3d.harness.matrix import expand_matrix
from bench3d.harness.runner import Runner
from bench3d.harness.specs import EvalSpec, PretrainSpec
from bench3d.methods import build_method
from bench3d.results import ResultsStore, load

def _runner(store: Path, release: Path) -> Runner:
    return Runner(ResultsStore(store), "cpu", release)


def test_pretrain_lp_record_and_skip(harness_release: Path, short_cards: Path, tmp_path: Path) -> None:
    runner = _runner(tmp_path / "results", harness_release)
    spec = EvalSpec("scalr", "linear_probe", "synth", 1.0, 0, 0)
    record = runner.evaluate(spec)
    prov = record.provenance
    assert record.kind == "evaluation" and record.metrics["reducer"] == "nuscenes"
    assert 0.0 <= record.metrics["miou"] <= 1.0
    assert len(record.metrics["confusion_matrix"]) == 17
    assert prov.split_hash and prov.checkpoint_sha256 and prov.config_hash == record.run_id
    assert prov.resolved_config["protocol"]["version"] == "1.0" and "torch" in prov.packages
    pretrain = ResultsStore(tmp_path / "results").read(record.checkpoint)
    assert pretrain.kind == "pretrain" and pretrain.metrics["epochs"] == 2
    files = sorted((tmp_path / "results").glob("*.json"))
    again = runner.evaluate(spec)  # finished: skipped, nothing rewritten
    assert again == record and sorted((tmp_path / "results").glob("*.json")) == files
    df = load(tmp_path / "results")
    assert set(df.kind) == {"pretrain", "evaluation"}


def test_same_run_twice_gives_identical_metrics(harness_release: Path, short_cards: Path, tmp_path: Path) -> None:
    spec = EvalSpec("random", "finetune", "synth", 0.25, 0, 3)
    a = _runner(tmp_path / "a", harness_release).evaluate(spec)
    b = _runner(tmp_path / "b", harness_release).evaluate(spec)
    assert a.run_id == b.run_id
    assert a.metrics["confusion_matrix"] == b.metrics["confusion_matrix"]
    assert a.metrics["miou"] == b.metrics["miou"] and a.metrics["loss_history"] == b.metrics["loss_history"]


def test_sigkill_then_resume_matches_uninterrupted(harness_release: Path, short_cards: Path, tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "bench3d", "run", "--method", "random", "--protocol", "finetune",
           "--fraction", "0.25", "--draw", "1", "--seed", "5", "--dataroot", str(harness_release)]
    env = {**os.environ, "BENCH3D_CARDS": str(short_cards)}
    killed_store, clean_store = tmp_path / "killed", tmp_path / "clean"
    proc = subprocess.Popen([*cmd, "--results", str(killed_store)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and not list(killed_store.glob("work/*/state.pt")):
        time.sleep(0.05)
    assert list(killed_store.glob("work/*/state.pt")), "no epoch finished before the deadline"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    state = torch.load(next(killed_store.glob("work/*/state.pt")), weights_only=False)
    assert 1 <= state["epoch"] < 6, "the kill must land mid-training"
    assert not list(killed_store.glob("*.json"))  # no record for the killed run
    subprocess.run([*cmd, "--results", str(killed_store)], env=env, check=True, capture_output=True)
    subprocess.run([*cmd, "--results", str(clean_store)], env=env, check=True, capture_output=True)
    resumed = json.loads(next(killed_store.glob("*.json")).read_text())
    clean = json.loads(next(clean_store.glob("*.json")).read_text())
    assert resumed["metrics"]["confusion_matrix"] == clean["metrics"]["confusion_matrix"]
    assert resumed["metrics"]["loss_history"] == clean["metrics"]["loss_history"]
    assert not list(killed_store.glob("work/*"))  # work state removed once the record is written


def test_checkpoint_missing_key_is_named(harness_release: Path, short_cards: Path, tmp_path: Path) -> None:
    runner = _runner(tmp_path / "results", harness_release)
    _, ckpt = runner.pretrain(PretrainSpec("scalr", "synth"))
    state = torch.load(ckpt, weights_only=False)
    assert set(state["backbones"]) == {"lidar"} and state["configs"]["lidar"]["type"] == "lidar_minkunet"
    dropped = next(iter(state["backbones"]["lidar"]))
    del state["backbones"]["lidar"][dropped]
    broken = tmp_path / "broken.pt"
    torch.save(state, broken)
    with pytest.raises(ConfigError, match=f"missing keys.*{dropped}"):
        build_method("scalr").load_backbone("lidar", broken)


def test_unknown_names_list_the_known(harness_release: Path, short_cards: Path, tmp_path: Path) -> None:
    runner = _runner(tmp_path / "results", harness_release)
    with pytest.raises(UnknownNameError, match="known methods: .*random.*scalr"):
        runner.evaluate(EvalSpec("nope", "linear_probe", "synth", 1.0, 0, 0))
    with pytest.raises(UnknownNameError, match="known protocols: .*linear_probe"):
        expand_matrix(["random"], ["nope"], "synth")
    with pytest.raises(UnknownNameError, match="known datasets: .*synth"):
        runner.evaluate(EvalSpec("random", "linear_probe", "kitti360", 1.0, 0, 0))
    with pytest.raises(ConfigError, match="needs a pretraining checkpoint"):
        build_method("scalr").load_backbone("lidar", None)
