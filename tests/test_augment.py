"""Pretraining augmentations keep every point-pixel pair on the same image content and the same point."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from pydantic import TypeAdapter, ValidationError

from bench3d.methods.augment import augment_item, crop_uv, keep_pairs
from bench3d.methods.augment_config import (Augmentation, DropCuboids, FlipXY, HorizontalFlip, LimitPoints,
                                            ResizedCrop, RotationZ, ScaleCloud)
from bench3d.methods.distill import ImageLidarItem

H, W, CAMS = 48, 96, 2


def _ramp_images() -> torch.Tensor:
    """Channel 0 = column, channel 1 = row, channel 2 = camera * 100: a pixel's value says where it came from."""
    v, u = torch.meshgrid(torch.arange(H), torch.arange(W), indexing="ij")
    cams = [torch.stack([u, v, torch.full_like(u, 100 * c)], dim=-1) for c in range(CAMS)]
    return torch.stack(cams).to(torch.uint8)


def _item(n_points: int = 400, seed: int = 0) -> ImageLidarItem:
    g = torch.Generator().manual_seed(seed)
    points = torch.cat([torch.rand(n_points, 3, generator=g) * 40 - 20, torch.rand(n_points, 1, generator=g) * 255],
                       dim=1)
    paired = torch.randperm(n_points, generator=g)[: n_points // 2]
    cams = torch.randint(CAMS, (len(paired),), generator=g)
    uv = torch.stack([torch.randint(W, (len(paired),), generator=g), torch.randint(H, (len(paired),), generator=g)],
                     dim=1).float()
    return ImageLidarItem("t", points, _ramp_images(), paired, cams, uv, np.eye(4), "scene")


def _value_at(images: torch.Tensor, cams: torch.Tensor, uv: torch.Tensor) -> torch.Tensor:
    col = uv[:, 0].round().long().clamp(0, images.shape[2] - 1)
    row = uv[:, 1].round().long().clamp(0, images.shape[1] - 1)
    return images[cams, row, col].float()


def test_crop_without_scaling_keeps_every_pair_on_its_pixel() -> None:
    item = _item()
    frac = 24 * 40 / (H * W)  # a box of exactly 24 x 40 pixels
    aug = ResizedCrop(size=[24, 40], scale=[frac, frac], ratio=[40 / 24, 40 / 24], min_pairs=0, min_kept=0.0)
    out, _ = augment_item(item, [aug], torch.Generator().manual_seed(3))
    assert out.images.shape == (CAMS, 24, 40, 3)
    assert 0 < len(out.uv) < len(item.uv)  # pairs outside the crop are gone
    # A crop of exactly the output size: integer pixels map to integer pixels of the same colour.
    assert torch.allclose(out.uv, out.uv.round())
    before = {(int(p), int(c)): _value_at(item.images, item.camera_index[i:i + 1], item.uv[i:i + 1])
              for i, (p, c) in enumerate(zip(item.point_index, item.camera_index))}
    after = _value_at(out.images, out.camera_index, out.uv)
    for k, (p, c) in enumerate(zip(out.point_index, out.camera_index)):
        assert torch.equal(after[k], before[(int(p), int(c))][0])
    assert "crop" in out.image_view


def test_resized_crop_maps_coordinates_through_the_resize() -> None:
    item = _item()
    aug = ResizedCrop(size=[32, 64], scale=[0.3, 1.0], min_pairs=0, min_kept=0.0)
    out, _ = augment_item(item, [aug], torch.Generator().manual_seed(5))
    assert out.images.shape == (CAMS, 32, 64, 3)
    # The image is a linear ramp, so the resampled image at a pair's new pixel holds its old coordinates
    # (to the rounding of the new pixel grid: at most half a new pixel in old pixels, plus uint8 rounding).
    got = _value_at(out.images, out.camera_index, out.uv)
    row_of = {}
    for i in range(len(item.point_index)):
        row_of[(int(item.point_index[i]), int(item.camera_index[i]))] = i
    old = torch.stack([item.uv[row_of[(int(p), int(c))]] for p, c in zip(out.point_index, out.camera_index)])
    interior = (out.uv[:, 0] > 1) & (out.uv[:, 0] < 62) & (out.uv[:, 1] > 1) & (out.uv[:, 1] < 30)
    assert interior.sum() > 20
    assert (got[interior, 0] - old[interior, 0]).abs().max() <= W / 64 / 2 + 1.5
    assert (got[interior, 1] - old[interior, 1]).abs().max() <= H / 32 / 2 + 1.5
    assert torch.equal(got[:, 2], out.camera_index.float() * 100)  # each pair stayed on its camera


def test_crop_uv_of_the_whole_image_is_the_identity_and_halving_maps_centres() -> None:
    uv = torch.tensor([[0.0, 0.0], [95.0, 47.0], [10.0, 20.0]])
    assert torch.allclose(crop_uv(uv, (0, 0, H, W), (H, W)), uv)
    half = crop_uv(uv, (0, 0, H, W), (H // 2, W // 2))
    # Pixels 0 and 1 average into new pixel 0, whose centre is at old 0.5: u' = (u + 0.5) / 2 - 0.5.
    assert torch.allclose(half, (uv + 0.5) / 2 - 0.5)


def test_horizontal_flip_mirrors_the_pairs_with_the_image() -> None:
    item = _item()
    maps = torch.arange(CAMS * H * W).view(CAMS, H, W)
    out, out_maps = augment_item(item, [HorizontalFlip(p=1.0)], torch.Generator().manual_seed(0), maps)
    assert torch.equal(_value_at(out.images, out.camera_index, out.uv),
                       _value_at(item.images, item.camera_index, item.uv))
    assert torch.equal(out_maps[out.camera_index, out.uv[:, 1].long(), out.uv[:, 0].long()],
                       maps[item.camera_index, item.uv[:, 1].long(), item.uv[:, 0].long()])
    assert torch.equal(item.images, _ramp_images())  # the input item is not modified


def test_cloud_transforms_move_the_points_only() -> None:
    item = _item()
    out, _ = augment_item(item, [RotationZ(), FlipXY(p=1.0), ScaleCloud(low=2.0, high=2.0)],
                          torch.Generator().manual_seed(1))
    assert torch.equal(out.point_index, item.point_index) and torch.equal(out.uv, item.uv)
    assert torch.allclose(out.points[:, :2].norm(dim=1), 2 * item.points[:, :2].norm(dim=1), atol=1e-4)
    assert torch.allclose(out.points[:, 2], 2 * item.points[:, 2])
    assert torch.equal(out.points[:, 3], item.points[:, 3])


def test_drop_cuboids_reindexes_the_pairs_onto_the_same_points() -> None:
    item = _item(2000)
    out, _ = augment_item(item, [DropCuboids(max_fraction=1.0, min_pairs_per_camera=0)],
                          torch.Generator().manual_seed(2))
    assert len(out.points) < len(item.points)
    # every kept pair points at the same (x, y, z, intensity) row as before
    pairs_before = {(tuple(item.points[p].tolist()), int(c)) for p, c in zip(item.point_index, item.camera_index)}
    for p, c in zip(out.point_index, out.camera_index):
        assert (tuple(out.points[p].tolist()), int(c)) in pairs_before
    # a drop that would starve a camera is undone (SLidR's rule)
    same, _ = augment_item(item, [DropCuboids(max_fraction=1.0, min_pairs_per_camera=10**6)],
                           torch.Generator().manual_seed(2))
    assert same is item


def test_limit_points_keeps_the_nearest_to_a_cloud_point_with_their_pairs() -> None:
    item = _item(2000)
    out, _ = augment_item(item, [LimitPoints(max_points=300)], torch.Generator().manual_seed(4))
    assert len(out.points) == 300
    kept = {tuple(p.tolist()) for p in out.points}
    rows = [i for i, p in enumerate(item.points) if tuple(p.tolist()) in kept]
    # A ball: every kept point is nearer some cloud point (the centre) than every dropped point is.
    xyz = item.points[:, :3]
    centre_candidates = [c for c in rows if (xyz[rows] - xyz[c]).norm(dim=1).max()
                         <= (xyz[[i for i in range(2000) if i not in set(rows)]] - xyz[c]).norm(dim=1).min()]
    assert centre_candidates
    pairs_before = {(tuple(item.points[p].tolist()), int(c)) for p, c in zip(item.point_index, item.camera_index)}
    assert all((tuple(out.points[p].tolist()), int(c)) in pairs_before
               for p, c in zip(out.point_index, out.camera_index))
    assert len(out.point_index) == sum(tuple(item.points[p].tolist()) in kept for p in item.point_index)
    small, _ = augment_item(item, [LimitPoints(max_points=5000)], torch.Generator().manual_seed(4))
    assert small is item  # fewer points than the limit: untouched


def test_one_axis_flip_negates_exactly_one_axis_at_its_rate() -> None:
    item = _item(50)
    flipped = {"x": 0, "y": 0, "none": 0}
    g = torch.Generator().manual_seed(5)
    for _ in range(600):
        out, _ = augment_item(item, [FlipXY(mode="one_axis", p=2 / 3)], g)
        sx = bool((out.points[:, 0] == -item.points[:, 0]).all())
        sy = bool((out.points[:, 1] == -item.points[:, 1]).all())
        assert not (sx and sy)
        flipped["x" if sx else "y" if sy else "none"] += 1
    assert abs(flipped["none"] / 600 - 1 / 3) < 0.06 and abs(flipped["x"] - flipped["y"]) < 80


def test_geometry_stays_float32_under_bf16_autocast() -> None:
    item = _item()
    g = torch.Generator().manual_seed(1)
    plain, _ = augment_item(item, [RotationZ()], g)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        auto, _ = augment_item(item, [RotationZ()], torch.Generator().manual_seed(1))
    assert auto.points.dtype == torch.float32 and torch.equal(plain.points, auto.points)


def test_keep_pairs_drops_the_pairs_of_dropped_points() -> None:
    item = _item(10)
    keep = torch.ones(10, dtype=torch.bool)
    keep[item.point_index[0]] = False
    out = keep_pairs(item, keep)
    assert len(out.point_index) == len(item.point_index) - 1
    assert int(out.point_index.max()) < 9


def test_same_generator_seed_gives_the_same_augmentation() -> None:
    augs = [RotationZ(), DropCuboids(min_pairs_per_camera=0), ResizedCrop(size=[24, 48]), HorizontalFlip()]
    a, _ = augment_item(_item(), augs, torch.Generator().manual_seed(9))
    b, _ = augment_item(_item(), augs, torch.Generator().manual_seed(9))
    c, _ = augment_item(_item(), augs, torch.Generator().manual_seed(10))
    assert torch.equal(a.points, b.points) and torch.equal(a.uv, b.uv) and torch.equal(a.images, b.images)
    assert not torch.equal(a.points, c.points)


def test_card_augmentations_are_a_typed_list() -> None:
    parse = TypeAdapter(list[Augmentation]).validate_python
    augs = parse([{"kind": "rotation_z"}, {"kind": "resized_crop", "size": [224, 416]}])
    assert isinstance(augs[1], ResizedCrop) and augs[1].ratio == [14 / 9, 17 / 9]
    with pytest.raises(ValidationError, match="kind"):
        parse([{"kind": "cutmix"}])
    with pytest.raises(ValidationError):
        parse([{"kind": "resized_crop"}])  # the output size has no default
    with pytest.raises(ValidationError):
        parse([{"kind": "flip_xy", "prob": 0.5}])  # misspelt field
    with pytest.raises(ValidationError, match="low 1.1 is above high 0.9"):
        parse([{"kind": "scale", "low": 1.1, "high": 0.9}])
    with pytest.raises(ValidationError, match="aspect range"):
        parse([{"kind": "resized_crop", "size": [8, 8], "ratio": [0.0, 1.0]}])


def test_the_teacher_cache_refuses_image_augmentations() -> None:
    from bench3d.methods.config import PretrainingConfig

    with pytest.raises(ValidationError, match="cache_teacher_features with image augmentations"):
        PretrainingConfig(epochs=1, batch_size=1, lr=1e-3, cache_teacher_features=True,
                          augmentations=[{"kind": "horizontal_flip"}])
