"""The shared training loop: a run stopped after any epoch resumes to bit-identical weights."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from bench3d.engine.seeding import epoch_rng
from bench3d.engine.trainer import Trainer, build_optimizer, build_scheduler

X = torch.randn(64, 8, generator=torch.Generator().manual_seed(1))
Y = X @ torch.randn(8, 3, generator=torch.Generator().manual_seed(2))


def _train(epochs: int, state: Path | None, total: int = 4) -> nn.Module:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.Dropout(0.2), nn.Linear(16, 3))  # dropout: uses torch RNG
    opt = build_optimizer([{"params": list(model.parameters())}], "sgd", 0.05, momentum=0.9)
    sched = build_scheduler(opt, "cosine", total)
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
