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
    sched = build_scheduler(opt, schedule, total, total_steps=total * 4, warmup_steps=warmup, min_lr_ratio=0.02)
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
    sched = build_scheduler(opt, schedule, epochs=steps // 10, total_steps=steps, **kw)
    assert sched.per_step
    out = []
    for _ in range(steps):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out + [opt.param_groups[0]["lr"]]  # and the lr after the last step


def test_warmup_cosine_ramps_linearly_then_decays_to_min_lr() -> None:
    # ScaLR's shape (WarmupCosine): from 0, 20 warm-up steps, then cosine to 1e-5.
    lrs = _lrs("cosine", 100, warmup_steps=20, min_lr_ratio=1e-5 / 2e-3)
    assert lrs[0] == 0.0 and lrs[10] == pytest.approx(1e-3) and lrs[20] == pytest.approx(2e-3)
    assert all(b > a for a, b in zip(lrs[:20], lrs[1:21]))
    assert all(b <= a for a, b in zip(lrs[20:], lrs[21:]))
    assert lrs[-1] == pytest.approx(1e-5)


def test_mmcv_warmup_starts_at_its_ratio() -> None:
    # GeoMIM / MIM4D (mmcv): linear warm-up from 1/3 of the peak, cosine to 1e-3 of it.
    lrs = _lrs("cosine", 100, warmup_steps=10, warmup_ratio=1 / 3, min_lr_ratio=1e-3)
    assert lrs[0] == pytest.approx(2e-3 / 3) and lrs[10] == pytest.approx(2e-3)
    assert lrs[-1] == pytest.approx(2e-6)


def test_per_epoch_cosine_ends_at_min_lr() -> None:
    opt = build_optimizer([{"params": [nn.Parameter(torch.zeros(1))], "lr": 1e-3}, {"params": [nn.Parameter(
        torch.zeros(1))], "lr": 1e-4}], "adamw", 1e-3)
    sched = build_scheduler(opt, "cosine", epochs=5, min_lr_ratio=0.01)
    for _ in range(5):
        opt.step()
        sched.step()
    assert [g["lr"] for g in opt.param_groups] == pytest.approx([1e-5, 1e-6])  # each group: 1 % of its own lr


def test_onecycle_is_superflows() -> None:
    # mmengine's OneCycleLR as SuperFlow configures it: peak after 20 %, div 25, final div 100, betas fixed.
    opt = build_optimizer([{"params": [nn.Parameter(torch.zeros(1))]}], "adamw", 2e-3)
    lrs = _lrs("onecycle", 100, warmup_fraction=0.2)
    peak = max(range(101), key=lambda i: lrs[i])
    assert abs(peak - 19) <= 1 and lrs[peak] == pytest.approx(2e-3, rel=1e-3)
    assert lrs[0] == pytest.approx(2e-3 / 25) and lrs[99] == pytest.approx(2e-3 / 2500)  # the last step's lr
    sched = build_scheduler(opt, "onecycle", epochs=1, total_steps=10)
    for _ in range(5):
        opt.step()
        sched.step()
    assert opt.param_groups[0]["betas"] == (0.9, 0.999)


def test_per_step_schedule_needs_the_step_count() -> None:
    opt = build_optimizer([{"params": [nn.Parameter(torch.zeros(1))]}], "adamw", 1e-3)
    with pytest.raises(ValueError, match="total_steps"):
        build_scheduler(opt, "onecycle", 3)


@pytest.mark.parametrize(("values", "message"), [
    ({"schedule": "onecycle", "min_lr": 1e-5}, "min_lr applies to schedule cosine"),
    ({"schedule": "cosine", "warmup_fraction": 0.3}, "warmup_fraction applies to schedule onecycle"),
    ({"schedule": "cosine", "warmup_ratio": 0.3}, "warmup_ratio applies to a warm-up"),
    ({"schedule": "onecycle", "warmup_steps": 10}, "warmup_steps applies to schedule cosine"),
    ({"schedule": "cosine", "min_lr": 1.0}, "must be below lr"),
])
def test_a_schedule_value_the_schedule_ignores_is_refused(values: dict, message: str) -> None:
    from pydantic import ValidationError

    from bench3d.methods.config import OptimisationConfig

    with pytest.raises(ValidationError, match=message):
        OptimisationConfig(epochs=2, batch_size=1, lr=1e-3, **values)
