"""The shared training loop: a run stopped after any epoch resumes to bit-identical weights."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from bench3d.engine.seeding import epoch_rng
from bench3d.engine.trainer import Trainer, build_optimizer, build_scheduler

X = torch.randn(64, 8, generator=torch.Generator().manual_seed(1))
Y = X @ torch.randn(8, 3, generator=torch.Generator().manual_seed(2))


def _train(epochs: int, state: Path | None, total: int = 4, schedule: str = "cosine", warmup: int = 0) -> nn.Module:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.Dropout(0.2), nn.Linear(16, 3))  # dropout: uses torch RNG
    opt = build_optimizer([{"params": list(model.parameters())}], "sgd", 0.05, momentum=0.9)
    sched = build_scheduler(opt, schedule, total, steps_per_epoch=4, warmup_steps=warmup, min_lr=1e-3)
    trainer = Trainer(model, opt, sched, epochs, state)

    def batches(epoch: int):
        order = epoch_rng(0, epoch).permutation(64)
        return [order[i:i + 16] for i in range(0, 64, 16)]

    trainer.fit(lambda e: ([b] for b in batches(e)), lambda idx: {"mse": ((model(X[idx]) - Y[idx]) ** 2).mean()})
    return model


def test_resume_matches_uninterrupted(tmp_path: Path) -> None:
    straight = _train(4, None)
    state = tmp_path / "state.pt"
    _train(2, state)  # "killed" after two epochs: only the state file survives
    resumed = _train(4, state)
    for a, b in zip(straight.state_dict().values(), resumed.state_dict().values()):
        assert torch.equal(a, b)


def test_finished_state_is_not_retrained(tmp_path: Path) -> None:
    state = tmp_path / "state.pt"
    first = _train(4, state)
    again = _train(4, state)  # resumes at epoch 4 of 4: no step taken, same weights
    for a, b in zip(first.state_dict().values(), again.state_dict().values()):
        assert torch.equal(a, b)


def test_per_step_schedules_resume_to_the_same_weights(tmp_path: Path) -> None:
    for schedule, warmup in (("onecycle", 0), ("cosine", 5)):
        straight = _train(4, None, schedule=schedule, warmup=warmup)
        state = tmp_path / f"{schedule}.pt"
        _train(2, state, schedule=schedule, warmup=warmup)
        resumed = _train(4, state, schedule=schedule, warmup=warmup)
        for a, b in zip(straight.state_dict().values(), resumed.state_dict().values()):
            assert torch.equal(a, b)


def _lrs(schedule: str, steps: int, **kw) -> list[float]:
    opt = build_optimizer([{"params": [nn.Parameter(torch.zeros(1))]}], "adamw", 2e-3)
    sched = build_scheduler(opt, schedule, epochs=steps // 10, steps_per_epoch=10, **kw)
    assert sched.per_step
    out = []
    for _ in range(steps):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out + [opt.param_groups[0]["lr"]]  # and the lr after the last step


def test_warmup_cosine_ramps_linearly_then_decays_to_min_lr() -> None:
    lrs = _lrs("cosine", 100, warmup_steps=20, min_lr=1e-5)  # ScaLR's shape: warm-up, cosine to 1e-5
    assert lrs[0] == pytest.approx(2e-3 / 20) and lrs[19] == pytest.approx(2e-3)
    assert all(b > a for a, b in zip(lrs[:19], lrs[1:20]))
    assert all(b <= a for a, b in zip(lrs[20:], lrs[21:]))
    assert lrs[-1] == pytest.approx(1e-5)


def test_onecycle_peaks_at_the_warmup_fraction() -> None:
    lrs = _lrs("onecycle", 100, warmup_fraction=0.2)  # SuperFlow: OneCycle, 20 % warm-up
    peak = max(range(101), key=lambda i: lrs[i])
    assert abs(peak - 19) <= 1 and lrs[peak] == pytest.approx(2e-3, rel=1e-3)
    assert lrs[0] < 2e-3 / 20 and lrs[-1] < 1e-6


def test_per_step_schedule_needs_the_steps_per_epoch() -> None:
    opt = build_optimizer([{"params": [nn.Parameter(torch.zeros(1))]}], "adamw", 1e-3)
    with pytest.raises(ValueError, match="steps_per_epoch"):
        build_scheduler(opt, "onecycle", 3)
