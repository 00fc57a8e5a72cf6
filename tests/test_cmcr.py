"""CMCR invariants: the EMA codebook step equals its formula, occupancy queries follow their three rules, the
orthogonality term vanishes on orthogonal features, masked pixels never pair with points, straight-through
quantisation passes gradients, and with every component off the loss is PPKT's."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from bench3d.models.cmcr.codebook import UnifiedCodebook, orthogonality_loss
from bench3d.models.cmcr.image import patch_masks
from bench3d.models.cmcr.occupancy import FAR, INSIDE, OUTSIDE, occupancy_queries, radius_neighbours

ALL_OFF = {"masked_image_modelling": False, "occupancy_estimation": False, "unified_codebook": False,
           "orthogonality": False}
SMALL = {"max_points": 3000, "pairs": 256, "occupancy": {"queries": 96, "max_neighbours": 8}}


def test_ema_step_equals_its_formula_on_a_hand_made_batch() -> None:
    book = UnifiedCodebook(size=3, dim=2, decay=0.9, eps=0.01)
    e = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    book.codes.copy_(e)
    book.ema_weight.copy_(e)
    book.ema_count.copy_(torch.tensor([1.0, 2.0, 0.5]))
    s = math.sqrt(0.5)
    points = torch.tensor([[1.0, 0.0], [s, s], [0.0, 1.0]])  # nearest codes 0, 0 (tie -> first), 1
    pixels = torch.tensor([[s, s], [0.0, 1.0], [-1.0, 0.0]])  # nearest codes 0, 1, 2
    book.ema_update(points, pixels)

    g, eps, k = 0.9, 0.01, 3
    count, weight = np.array([1.0, 2.0, 0.5]), e.numpy().astype(np.float64).copy()
    for assign, own, other in (([0, 0, 1], points, pixels), ([0, 1, 2], pixels, points)):
        onehot = np.eye(k)[assign]
        count = g * count + (1 - g) * onehot.sum(0)
        n = count.sum()
        count = (count + eps) / (n + k * eps) * n
        weight = g * weight + (1 - g) * (0.5 * onehot.T @ own.numpy() + 0.5 * onehot.T @ other.numpy())
    codes = weight / count[:, None]
    codes /= np.linalg.norm(codes, axis=1, keepdims=True)
    np.testing.assert_allclose(book.ema_count.numpy(), count, rtol=1e-6)
    np.testing.assert_allclose(book.ema_weight.numpy(), weight, rtol=1e-6)
    np.testing.assert_allclose(book.codes.numpy(), codes, rtol=1e-5, atol=1e-6)
    assert book.codes.requires_grad is False and "codes" in book.state_dict()  # a buffer: saved, never optimised


def test_quantisation_is_straight_through_and_losses_behave() -> None:
    torch.manual_seed(0)
    book = UnifiedCodebook(size=8, dim=4)
    x = F.normalize(torch.randn(5, 4), dim=1).requires_grad_()
    q = book.quantise(x)
    assert torch.allclose(q, book.codes[book.distances(x.detach()).argmin(1)])  # values: the nearest codes
    w = torch.randn(5, 4)
    (q * w).sum().backward()
    assert torch.equal(x.grad, w)  # gradient: the identity's
    # Commitment: zero on the codes themselves; code matching: log N when every row has the same distribution.
    on_codes = book.codes[:3].clone()
    assert all(v.item() == 0 for v in book.commitment_losses(on_codes, on_codes))
    same = F.normalize(torch.ones(6, 4), dim=1)
    assert book.code_matching_loss(same, same).item() == pytest.approx(math.log(6), abs=1e-5)
    # Paired rows that share a code distribution score better than shuffled pairs.
    a = book.codes[:4] * 0.9 + 0.1 * F.normalize(torch.randn(4, 4), dim=1)
    assert book.code_matching_loss(a, a) < book.code_matching_loss(a, a.roll(1, 0))


def test_orthogonality_is_zero_for_orthogonal_features_only() -> None:
    torch.manual_seed(0)
    # Sᵀ P̂ sums outer products over points: zero when, over the points, every shared channel is orthogonal to
    # every specific one — here their supports are disjoint sets of points.
    shared = torch.zeros(50, 64)
    shared[:25] = torch.randn(25, 64)
    specific = torch.zeros(50, 64)
    specific[25:] = torch.randn(25, 64)
    assert orthogonality_loss(shared, specific).item() == 0.0
    mixed = specific + 0.5 * shared
    expected = torch.linalg.matrix_norm(shared.T @ F.normalize(mixed, dim=1)) / 64 ** 2
    assert orthogonality_loss(shared, mixed).item() == pytest.approx(expected.item()) and expected > 0


def test_occupancy_queries_follow_their_three_rules() -> None:
    gen = torch.Generator().manual_seed(0)
    xyz = torch.randn(200, 3) * 10
    points = torch.cat([xyz, torch.rand(200, 1) * 255], dim=1)
    q = occupancy_queries(points, 100, shell=0.1, rng=gen)
    assert [(q.kind == k).sum().item() for k in (INSIDE, OUTSIDE, FAR)] == [34, 33, 33]
    assert torch.equal(q.occupied, (q.kind == INSIDE).float())
    assert torch.all((q.intensity == -1) == (q.kind == FAR))
    # Every query lies on its source point's ray: find the source by direction, then check the range.
    dirs = F.normalize(xyz, dim=1)
    src = (F.normalize(q.positions, dim=1) @ dirs.T).argmax(1)
    assert torch.allclose(F.normalize(q.positions, dim=1), dirs[src], atol=1e-4)
    ratio = q.positions.norm(dim=1) - xyz[src].norm(dim=1)  # signed distance behind (+) / in front of (-) the point
    inside, outside, far = (q.kind == k for k in (INSIDE, OUTSIDE, FAR))
    assert torch.all((ratio[inside] >= 0) & (ratio[inside] <= 0.1 + 1e-5))
    assert torch.all((ratio[outside] <= 0) & (ratio[outside] >= -0.1 - 1e-5))
    assert torch.all((q.positions[far].norm(dim=1) <= xyz[src[far]].norm(dim=1) + 1e-5))
    assert torch.allclose(q.intensity[~far], points[src[~far], 3] / 255, atol=1e-6)


def test_radius_neighbours_equal_brute_force() -> None:
    gen = torch.Generator().manual_seed(1)
    points = (torch.rand(3000, 3, generator=gen) - 0.5) * torch.tensor([60.0, 60.0, 4.0])
    queries = (torch.rand(500, 3, generator=gen) - 0.5) * torch.tensor([60.0, 60.0, 4.0])
    qi, pi = radius_neighbours(points, queries, radius=2.0, max_neighbours=6, chunk=64)
    d = torch.cdist(queries.double(), points.double())
    expected = torch.sort(d, dim=1).values[:, :6]
    got = torch.full((500, 6), float("inf"), dtype=torch.float64)
    order = torch.argsort(qi * 10_000 + (d[qi, pi] * 1000).long())
    for slot, (i, j) in enumerate(zip(qi[order].tolist(), pi[order].tolist())):
        got[i, (got[i] < float("inf")).sum()] = d[i, j]
    within = expected <= 2.0
    assert torch.allclose(torch.sort(got, dim=1).values[within], expected[within])
    assert torch.all(torch.isinf(got[~within]))


def test_patch_masks_cover_whole_cells_of_chosen_images() -> None:
    mask = patch_masks(40, (40, 70), image_prob=0.5, patch=16, patch_prob=0.5, rng=torch.Generator().manual_seed(3))
    chosen = mask.flatten(1).any(1)
    assert 10 < chosen.sum() < 30  # about half the images (a chosen one has all 8 cells kept with chance 1/256)
    assert not mask[:, 32:].any() and not mask[:, :, 64:].any()  # partial cells stay unmasked
    cells = mask[:, :32, :64].reshape(40, 2, 16, 4, 16)
    assert torch.all(cells.all(dim=(2, 4)) == cells.any(dim=(2, 4)))  # whole cells or nothing


def _adapter(release: Path, components: dict | None = None, overrides: dict | None = None):
    from bench3d.harness.runner import Runner
    from bench3d.methods import PretrainContext, build_method

    runner = Runner(None, "cpu", release)
    ds = runner.dataset("synth")
    tokens = runner.split_tokens(ds, "train")
    ctx = PretrainContext(reader=runner.reader(ds), sample_tokens=tokens, device=torch.device("cpu"), seed=0)
    adapter = build_method("cmcr", overrides={**SMALL, **(overrides or {})}, components=components,
                           synthetic_data=True)
    torch.manual_seed(0)
    backbones, heads, _, _ = adapter.build_training(ctx)
    return adapter, ctx, backbones, heads, [adapter.prepare(ctx, t) for t in tokens[:2]]


def test_masked_pixels_never_pair_with_points(harness_release: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import bench3d.methods.cmcr as cmcr
    from bench3d.methods.slidr import pixel_of

    adapter, ctx, backbones, heads, items = _adapter(
        harness_release, overrides={"masking": {"image_prob": 1.0, "patch": 8, "patch_prob": 0.5}})
    masks, paired = [], []
    monkeypatch.setattr(cmcr, "patch_masks", lambda *a: masks.append(patch_masks(*a)) or masks[-1])
    real_sample = cmcr.sample_features
    monkeypatch.setattr(cmcr, "sample_features",
                        lambda maps, cams, uv, hw: paired.append((cams, uv, hw)) or real_sample(maps, cams, uv, hw))
    adapter.loss(backbones, heads, items, ctx, torch.Generator().manual_seed(0))
    for item, mask, (cams, uv, hw) in zip(items, masks, paired):
        row, col = pixel_of(uv, hw)
        assert mask.any() and not mask[cams, row, col].any()
        all_row, all_col = pixel_of(item.uv, hw)
        dropped = mask[item.camera_index, all_row, all_col].sum().item()
        assert dropped > 0 and len(uv) == len(item.uv) - dropped  # exactly the masked ones were dropped


def test_with_every_component_off_the_loss_is_ppkt(harness_release: Path) -> None:
    from bench3d.methods.contrastive import info_nce
    from bench3d.methods.distill import sample_features

    adapter, ctx, backbones, heads, items = _adapter(harness_release, components=ALL_OFF)
    assert set(heads) == {"point_shared", "pixel_shared"}
    losses = adapter.loss(backbones, heads, items, ctx, torch.Generator().manual_seed(7))
    assert set(losses) == {"contrastive"}
    # PPKT by hand: every pair of the batch, 256 drawn, point -> pixel InfoNCE at 0.07.
    keys, queries = [], []
    for item, f in zip(items, backbones["lidar"]([it.points for it in items])):
        keys.append(F.normalize(heads["point_shared"](f), dim=1)[item.point_index])
        maps = heads["pixel_shared"](ctx.teacher.encode(item.images))
        queries.append(F.normalize(sample_features(maps, item.camera_index, item.uv, item.images.shape[1:3]), dim=1))
    keys, queries = torch.cat(keys), torch.cat(queries)
    pick = torch.randperm(len(keys), generator=torch.Generator().manual_seed(7))[:256]
    assert losses["contrastive"].item() == pytest.approx(info_nce(keys[pick], queries[pick], 0.07).item(), rel=1e-5)


def test_every_term_and_the_straight_through_path_reach_the_trunk(harness_release: Path) -> None:
    adapter, ctx, backbones, heads, items = _adapter(harness_release)
    assert set(heads) == {"point_shared", "point_specific", "pixel_shared", "pixel_specific", "reconstruction",
                          "occupancy", "codebook"}  # the card's pretraining-only modules
    before = heads["codebook"].codes.clone()
    losses = adapter.loss(backbones, heads, items, ctx, torch.Generator().manual_seed(0))
    assert set(losses) == {"contrastive", "reconstruction", "occupancy", "intensity", "orthogonality",
                           "commit_point", "commit_pixel", "code_matching"}
    assert all(torch.isfinite(v) and v >= 0 for v in losses.values())
    assert not torch.equal(before, heads["codebook"].codes)  # one EMA step taken
    # The shared point head reaches the occupancy loss only through the quantised features.
    losses["occupancy"].backward(retain_graph=True)
    assert heads["point_shared"].weight.grad.abs().sum() > 0
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in backbones["lidar"].parameters())
    assert heads["pixel_shared"].weight.grad is None  # the occupancy term never touches the image side


def test_cmcr_pretrains_through_the_runner_and_transfers_only_the_trunk(harness_release: Path,
                                                                        tmp_path: Path) -> None:
    from _cards import using_cards, write_cards

    from bench3d.harness.runner import Runner
    from bench3d.harness.specs import PretrainSpec
    from bench3d.methods import build_method
    from bench3d.results import ResultsStore

    cards = write_cards(tmp_path / "cards", {**SMALL, "epochs": 1}, {})
    with using_cards(cards):
        runner = Runner(ResultsStore(tmp_path / "store"), "cpu", harness_release)
        run_id, ckpt = runner.pretrain(PretrainSpec("cmcr", "synth"))
        losses = runner.store.read(run_id).metrics["loss_history"][0]
        assert len(losses) == 8 and all(math.isfinite(v) for v in losses.values())
        saved = torch.load(ckpt, map_location="cpu", weights_only=False)
        assert set(saved["backbones"]) == {"lidar"}
        assert "codebook.codes" in saved["heads"] and "codebook.ema_count" in saved["heads"]
        trunk = build_method("cmcr").load_backbone("lidar", ckpt)  # strict
        fresh = build_method("random").load_backbone("lidar", None)
        assert set(trunk.state_dict()) == set(fresh.state_dict())


def test_occupancy_gradients_are_the_same_every_time_on_two_threads() -> None:
    """Every point neighbours many queries, so its feature's gradient sums many terms. With advanced indexing
    the CPU backward adds them with parallel atomics in a varying order (two runs of one CMCR pretraining gave
    different weights); the loss gathers with index_select, whose backward adds in index order."""
    from bench3d.models.cmcr.occupancy import OccupancyHead, occupancy_losses

    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        gen = torch.Generator().manual_seed(0)
        points = torch.cat([torch.randn(400, 3, generator=gen) * 2 + torch.tensor([5.0, 0.0, 0.0]),
                            torch.rand(400, 1, generator=gen) * 255], dim=1)
        queries = occupancy_queries(points, 3000, 0.1, gen)
        head = OccupancyHead(64)
        features = torch.randn(400, 64, generator=gen)
        grads = []
        for _ in range(4):
            f = features.clone().requires_grad_(True)
            bce, l1 = occupancy_losses(head, f, points[:, :3], queries, radius=1.0, max_neighbours=32)
            (bce + l1).backward()
            grads.append(f.grad)
        assert all(torch.equal(grads[0], g) for g in grads[1:])
    finally:
        torch.set_num_threads(threads)
