"""LiMA's mechanisms: FIFO bank, propagation under identity motion, cross-view aggregation, data order."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from bench3d.methods.lima.aggregation import aggregate_views, border_weight
from bench3d.methods.lima.memory import CrossSequenceQueue, FifoBank, FrameTargets
from bench3d.methods.lima.propagation import fuse, propagate, to_current


def _entry(token: str) -> FrameTargets:
    return FrameTargets(token, "scene", torch.zeros(1, 3, dtype=torch.float64), torch.zeros(1, 4))


def test_fifo_evicts_oldest_and_never_exceeds_capacity() -> None:
    bank = FifoBank(3)
    for i in range(10):
        bank.push(_entry(f"t{i}"))
        assert len(bank) <= 3
        assert bank.tokens() == [f"t{j}" for j in range(max(0, i - 2), i + 1)]  # oldest evicted first
    bank.push(_entry("t8"))  # re-pushing an entry moves it to the newest end, no duplicate
    assert bank.tokens() == ["t7", "t9", "t8"]
    assert bank.get("t0") is None and bank.get("t9") is not None and (bank.hits, bank.misses) == (1, 1)
    empty = FifoBank(0)
    empty.push(_entry("x"))
    assert len(empty) == 0


def test_identity_ego_motion_makes_propagation_identity() -> None:
    gen = torch.Generator().manual_seed(0)
    xyz = torch.rand(500, 3, generator=gen, dtype=torch.float64) * 40
    feats = F.normalize(torch.randn(500, 8, generator=gen, dtype=torch.float64), dim=1)
    moved = to_current(xyz, torch.eye(4, dtype=torch.float64))
    assert torch.equal(moved, xyz)
    # Voxel small enough that every point is alone in its voxel: each gets back its own feature.
    out, has = propagate(xyz, moved, feats, torch.ones(500, dtype=torch.float64), match_voxel=1e-3)
    assert has.all() and torch.allclose(out, feats, atol=1e-12)


def test_propagation_follows_ego_motion_and_drops_unmatched() -> None:
    yaw = 0.3
    pose = torch.eye(4, dtype=torch.float64)
    pose[:2, :2] = torch.tensor([[np.cos(yaw), -np.sin(yaw)], [np.sin(yaw), np.cos(yaw)]])
    pose[:3, 3] = torch.tensor([5.0, -2.0, 0.0])
    current = torch.tensor([[10.03, 0.07, 0.55], [20.05, 5.13, 0.45]], dtype=torch.float64)  # off voxel faces
    past_global = current @ pose[:3, :3].T + pose[:3, 3]  # the same world points, seen from the past pose
    past_global = torch.cat([past_global, torch.tensor([[100.0, 100.0, 0.0]], dtype=torch.float64)])
    feats = torch.eye(3, dtype=torch.float64)
    g2c = torch.linalg.inv(pose)
    out, has = propagate(current, to_current(past_global, g2c), feats, torch.ones(3, dtype=torch.float64), 0.2)
    assert has.tolist() == [True, True]
    assert torch.allclose(out, feats[:2])  # the far point matched nothing and was dropped


def test_fuse_gates_disagreeing_history() -> None:
    own = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 0.0]])
    own_mask = torch.tensor([True, True, False])
    past = torch.tensor([[1.0, 1.0], [-1.0, 0.0], [0.0, 1.0]])
    target, mask = fuse(own, own_mask, past, torch.tensor([True, True, True]), 0.5, min_agreement=0.3)
    assert mask.tolist() == [True, True, True]
    assert torch.allclose(target[0], F.normalize(torch.tensor([1.0, 0.5]), dim=0))  # agreeing: fused
    assert torch.allclose(target[1], torch.tensor([1.0, 0.0]))  # opposite history ignored
    assert torch.allclose(target[2], torch.tensor([0.0, 1.0]))  # unseen now: history supervises it


def test_cross_view_aggregation_single_view_is_that_view() -> None:
    feats = F.normalize(torch.randn(4, 6, generator=torch.Generator().manual_seed(2)), dim=1)
    idx, unified = aggregate_views(feats, torch.tensor([0, 2, 5, 7]), torch.full((4, 2), 20.0), (40, 80), 9)
    assert idx.tolist() == [0, 2, 5, 7] and torch.allclose(unified, feats, atol=1e-6)


def test_cross_view_aggregation_prefers_the_central_view() -> None:
    a, b = torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, 1.0]])
    uv = torch.tensor([[40.0, 20.0], [78.0, 20.0]])  # centre of one camera, border of the other
    _, unified = aggregate_views(torch.cat([a, b]), torch.tensor([3, 3]), uv, (40, 80), 4)
    w = border_weight(uv, (40, 80))
    assert w[0] > w[1] and unified[0, 0] > unified[0, 1] > 0


def test_cross_sequence_queue_excludes_own_sequence() -> None:
    q = CrossSequenceQueue(size=5, dim=2)
    gen = torch.Generator().manual_seed(0)
    q.push(torch.ones(4, 2), "a", 3, gen)
    q.push(torch.zeros(4, 2), "b", 3, gen)
    assert len(q.features) == 5  # bounded
    assert (q.negatives_for("a") == 0).all() and len(q.negatives_for("a")) == 3
