"""Multi-process data parallelism on CPU (gloo): `torchrun --nproc_per_node 2` takes the same steps as one
process with `--grad-accum 2` — the final parameters (not BatchNorm running statistics, which DDP keeps from
rank 0) agree to 1e-5, pretraining and downstream — and a 2-process run SIGKILLed mid-epoch resumes to the
parameters of an uninterrupted one. Both runs use one torch thread per process: threads change numbers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from bench3d.engine.distributed import Parallel
from bench3d.results import ResultsStore

pytestmark = pytest.mark.slow
TESTS = Path(__file__).parent
RUN = ["run", "--method", "scalr", "--protocol", "full_finetune", "--fraction", "1", "--draw", "0", "--seed", "0",
       "--pretrain-seed", "0"]
PRETRAIN = ["pretrain", "--method", "scalr"]


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(TESTS.parent), **extra}


def _torchrun(args: list[str], script: list[str] | None = None, **env: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           *(script or ["-m", "bench3d"]), *args]
    return subprocess.run(cmd, env=_env(**env), capture_output=True, text=True, timeout=600)


def _single(args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bench3d", *args], env=_env(), capture_output=True, text=True,
                          timeout=600)


def _ok(proc: subprocess.CompletedProcess) -> None:
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


def _trained_params(checkpoint: Path) -> dict[str, torch.Tensor]:
    ckpt = torch.load(checkpoint, map_location="cpu", weights_only=False)
    states = {f"{b}.{k}": v for b, state in ckpt["backbones"].items() for k, v in state.items()}
    states.update({f"head.{k}": v for k, v in ckpt["heads"].items()})
    return {k: v for k, v in states.items() if not k.endswith(("running_mean", "running_var", "num_batches_tracked"))}


def _max_diff(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> float:
    assert a.keys() == b.keys()
    return max(float((a[k].double() - b[k].double()).abs().max()) for k in a)


def _by_kind(store: Path) -> dict[str, object]:
    return {r.kind: r for r in ResultsStore(store).records()}


@pytest.fixture(scope="module")
def ddp_store(harness_release: Path, short_cards: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = tmp_path_factory.mktemp("ddp") / "store"
    _ok(_torchrun([*RUN, "--dataroot", str(harness_release), "--results", str(store)]))
    return store


def test_two_ranks_take_the_steps_of_grad_accum_2(ddp_store: Path, harness_release: Path, tmp_path: Path) -> None:
    accum = tmp_path / "accum"
    _ok(_single([*RUN, "--dataroot", str(harness_release), "--results", str(accum), "--grad-accum", "2"]))
    ddp, one = _by_kind(ddp_store), _by_kind(accum)
    # Same split of every batch, same run: the pretraining's run id does not depend on who ran the parts.
    assert ddp["pretrain"].run_id == one["pretrain"].run_id
    assert ddp["pretrain"].provenance.parallel == {"world_size": 2, "backend": "gloo", "grad_accum": 1,
                                                   "sync_bn": False}
    assert one["pretrain"].provenance.parallel["grad_accum"] == 2
    diff = _max_diff(_trained_params(ddp_store / "checkpoints" / f"{ddp['pretrain'].run_id}.pt"),
                     _trained_params(accum / "checkpoints" / f"{one['pretrain'].run_id}.pt"))
    assert diff <= 1e-5
    for kind in ("pretrain", "evaluation"):  # losses are the mean over both ranks' micro-batches
        a, b = ddp[kind].metrics["loss_history"], one[kind].metrics["loss_history"]
        assert len(a) == len(b) == 2
        for ea, eb in zip(a, b):
            assert ea.keys() == eb.keys() and all(abs(ea[k] - eb[k]) <= 1e-5 for k in ea)
    # Not one process's numbers: a single unsplit process takes other steps.
    plain = tmp_path / "plain"
    _ok(_single([*PRETRAIN, "--dataroot", str(harness_release), "--results", str(plain)]))
    (rec,) = ResultsStore(plain).records()
    assert rec.run_id != one["pretrain"].run_id
    assert _max_diff(_trained_params(plain / "checkpoints" / f"{rec.run_id}.pt"),
                     _trained_params(accum / "checkpoints" / f"{one['pretrain'].run_id}.pt")) > 1e-4


def test_a_rank_killed_mid_epoch_resumes_to_the_same_parameters(ddp_store: Path, harness_release: Path,
                                                                tmp_path: Path) -> None:
    store = tmp_path / "store"
    args = [*PRETRAIN, "--dataroot", str(harness_release), "--results", str(store)]
    # 8 training samples, batch 2 over 2 ranks: 4 steps per epoch; rank 1's 6th micro-batch is mid epoch 2.
    killed = _torchrun(args, [str(TESTS / "_ddp_fault.py")], KILL_RANK="1", KILL_AT_MICRO="6")
    assert killed.returncode != 0
    assert ResultsStore(store).records() == []
    (state,) = (store / "checkpoints").glob("*.pt.state")
    assert torch.load(state, map_location="cpu", weights_only=False)["epoch"] == 1
    _ok(_torchrun(args))
    (rec,) = ResultsStore(store).records()
    assert rec.metrics["segment_starts"] == [0, 1] and rec.provenance.resumes == 1
    assert not state.exists()
    reference = _by_kind(ddp_store)["pretrain"]
    assert rec.run_id == reference.run_id
    assert _max_diff(_trained_params(store / "checkpoints" / f"{rec.run_id}.pt"),
                     _trained_params(ddp_store / "checkpoints" / f"{reference.run_id}.pt")) <= 1e-6
    assert json.dumps(rec.metrics["loss_history"]) == json.dumps(reference.metrics["loss_history"])


def test_the_split_of_a_batch() -> None:
    one, two = Parallel(grad_accum=2), Parallel(world_size=2, rank=1, backend="gloo")
    assert one.split([1, 2, 3, 4, 5]) == [[1, 2, 3], [4, 5]] == two.split([1, 2, 3, 4, 5])
    assert one.mine([1, 2, 3]) == [(0, [1, 2]), (1, [3])]
    assert two.mine([1, 2, 3]) == [(1, [3])]  # rank 1 runs the micro-batch that accumulation runs second
    assert one.split([7]) == [[7], [7]]  # a batch smaller than the split is padded, never an empty part
    assert Parallel().run_config() == {} and one.run_config() == two.run_config() == {"micro_batches": 2}


def test_sync_bn_conversion_keeps_parameters_and_keys() -> None:
    from torch import nn

    from bench3d.methods import build_method
    from bench3d.models.sparse import SparseSyncBatchNorm
    from bench3d.models.sync_bn import convert_sync_batchnorm

    backbones = build_method("scalr", "tiny").build_backbones()
    before = backbones.state_dict()
    params = {id(p) for p in backbones.parameters()}
    converted = convert_sync_batchnorm(backbones)
    norms = [m for m in converted.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    assert norms and all(isinstance(m, SparseSyncBatchNorm) for m in norms)
    assert {id(p) for p in converted.parameters()} == params  # an optimiser built before still steps them
    after = converted.state_dict()
    assert list(after) == list(before) and all(after[k] is before[k] or torch.equal(after[k], before[k])
                                              for k in before)  # checkpoints load into either
