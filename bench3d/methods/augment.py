"""Pretraining augmentations of one image-LiDAR item, applied with the step's generator (so a resumed run
replays them) and keeping the point-pixel pairs exact.

A card lists them in order as a typed list (`augmentations: [{kind: rotation_z}, {kind: resized_crop, size:
[224, 416]}, ...]`). Cloud transforms (`rotation_z`, `flip_xy`, `scale`) move the student's input points only:
pairs index points, so they are unchanged. `limit_points` and `drop_cuboids` remove points and re-index the
pairs. Image transforms (`resized_crop`, `horizontal_flip`) change the images, optional per-camera label maps
(superpixels) and the pixel coordinates of the pairs, pairs leaving the image are dropped.

Pixel convention (`distill.sample_features`): pixel i's centre is at coordinate i, its edges at i +- 0.5. A
crop at column x0 of width w resized to W' maps u to (u - x0 + 0.5) * W' / w - 0.5 (no rounding, unlike
SLidR's loader, which rounds to integer pixels); a flip maps u to W - 1 - u.
"""

from __future__ import annotations

import math
from dataclasses import replace
import torch
import torch.nn.functional as F

from bench3d.methods.augment_config import (Augmentation, DropCuboids, FlipXY, HorizontalFlip, LimitPoints,
                                            ResizedCrop, RotationZ, ScaleCloud)
from bench3d.methods.distill import ImageLidarItem


def _uniform(rng: torch.Generator, low: float = 0.0, high: float = 1.0) -> float:
    return low + (high - low) * float(torch.rand((), generator=rng))


def _points(item: ImageLidarItem, xyz: torch.Tensor) -> ImageLidarItem:
    return replace(item, points=torch.cat([xyz, item.points[:, 3:]], dim=1))


def _rotation(item: ImageLidarItem, aug: RotationZ, rng: torch.Generator) -> ImageLidarItem:
    angle = math.radians(_uniform(rng, 0.0, aug.max_degrees))
    c, s = math.cos(angle), math.sin(angle)
    rot = torch.tensor([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]], dtype=item.points.dtype)
    return _points(item, item.points[:, :3] @ rot.T)


def _flip_xy(item: ImageLidarItem, aug: FlipXY, rng: torch.Generator) -> ImageLidarItem:
    sign = torch.ones(3, dtype=item.points.dtype)
    if aug.mode == "one_axis":
        if _uniform(rng) < aug.p:
            sign[int(torch.randint(2, (), generator=rng))] = -1.0
    else:
        for axis in range(2):
            if _uniform(rng) < aug.p:
                sign[axis] = -1.0
    return _points(item, item.points[:, :3] * sign)


def _scale(item: ImageLidarItem, aug: ScaleCloud, rng: torch.Generator) -> ImageLidarItem:
    return _points(item, item.points[:, :3] * _uniform(rng, aug.low, aug.high))


def keep_pairs(item: ImageLidarItem, keep_points: torch.Tensor) -> ImageLidarItem:
    """The item without the points where `keep_points` is False; pairs of dropped points go, the rest are
    re-indexed into the kept points."""
    new_index = torch.cumsum(keep_points.long(), 0) - 1
    paired = keep_points[item.point_index]
    return replace(item, points=item.points[keep_points], point_index=new_index[item.point_index[paired]],
                   camera_index=item.camera_index[paired], uv=item.uv[paired])


def _limit_points(item: ImageLidarItem, aug: LimitPoints, rng: torch.Generator) -> ImageLidarItem:
    xyz = item.points[:, :3]
    if len(xyz) <= aug.max_points:
        return item
    centre = xyz[int(torch.randint(len(xyz), (), generator=rng))]
    # A stable sort: ties at the cut-off break by point order, the same on every replay.
    nearest = torch.sort(((xyz - centre) ** 2).sum(1), stable=True).indices[:aug.max_points]
    keep = torch.zeros(len(xyz), dtype=torch.bool)
    keep[nearest] = True
    return keep_pairs(item, keep)


def _drop_cuboids(item: ImageLidarItem, aug: DropCuboids, rng: torch.Generator) -> ImageLidarItem:
    xyz = item.points[:, :3]
    if len(xyz) == 0:
        return item
    half = (xyz.max(0).values - xyz.min(0).values) * _uniform(rng, 0.0, aug.max_fraction) / 2
    centre = xyz[int(torch.randint(len(xyz), (), generator=rng))]
    inside = ((xyz < centre + half) & (xyz > centre - half)).all(dim=1)
    out = keep_pairs(item, ~inside)
    cams = item.images.shape[0]
    if (torch.bincount(out.camera_index, minlength=cams) < aug.min_pairs_per_camera).any():
        return item  # as SLidR: a drop that starves a camera of pairs is undone
    return out


def _crop_box(hw: tuple[int, int], aug: ResizedCrop, rng: torch.Generator) -> tuple[int, int, int, int]:
    """(top, left, height, width) as torchvision's RandomResizedCrop.get_params draws it (10 tries, then the
    centre crop of the closest allowed aspect)."""
    h, w = hw
    area = h * w
    log_ratio = (math.log(aug.ratio[0]), math.log(aug.ratio[1]))
    for _ in range(10):
        target = area * _uniform(rng, aug.scale[0], aug.scale[1])
        aspect = math.exp(_uniform(rng, *log_ratio))
        cw, ch = round(math.sqrt(target * aspect)), round(math.sqrt(target / aspect))
        if 0 < cw <= w and 0 < ch <= h:
            top = int(torch.randint(h - ch + 1, (), generator=rng))
            left = int(torch.randint(w - cw + 1, (), generator=rng))
            return top, left, ch, cw
    aspect = w / h
    if aspect < min(aug.ratio):
        cw, ch = w, round(w / min(aug.ratio))
    elif aspect > max(aug.ratio):
        ch, cw = h, round(h * max(aug.ratio))
    else:
        cw, ch = w, h
    return (h - ch) // 2, (w - cw) // 2, ch, cw


def crop_uv(uv: torch.Tensor, box: tuple[int, int, int, int], size: tuple[int, int]) -> torch.Tensor:
    """Pixel coordinates (M, 2: u, v) of a crop box (top, left, height, width) resized to size (H, W)."""
    top, left, ch, cw = box
    u = (uv[:, 0] - left + 0.5) * size[1] / cw - 0.5
    v = (uv[:, 1] - top + 0.5) * size[0] / ch - 0.5
    return torch.stack([u, v], dim=1)


def _inside(uv: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    return (uv[:, 0] >= -0.5) & (uv[:, 0] < size[1] - 0.5) & (uv[:, 1] >= -0.5) & (uv[:, 1] < size[0] - 0.5)


def _resize_crop(image: torch.Tensor, box: tuple[int, int, int, int], size: tuple[int, int],
                 labels: bool) -> torch.Tensor:
    """Crop (H, W[, 3]) and resize to size: bilinear with antialiasing for images, nearest for label maps."""
    top, left, ch, cw = box
    crop = image[top:top + ch, left:left + cw]
    if labels:
        return F.interpolate(crop[None, None].float(), size=size, mode="nearest-exact")[0, 0].to(image.dtype)
    x = crop.permute(2, 0, 1)[None].float()
    out = F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=True)[0].permute(1, 2, 0)
    return out.round().clamp(0, 255).to(image.dtype)


def _resized_crop(item: ImageLidarItem, maps: torch.Tensor | None, aug: ResizedCrop, rng: torch.Generator
                  ) -> tuple[ImageLidarItem, torch.Tensor | None]:
    size = (aug.size[0], aug.size[1])
    hw = (item.images.shape[1], item.images.shape[2])
    images, new_maps, keep, uv, boxes = [], [], torch.zeros(len(item.uv), dtype=torch.bool), item.uv.clone(), []
    for cam in range(item.images.shape[0]):
        sel = item.camera_index == cam
        box = (0, 0, hw[0], hw[1])
        for _ in range(aug.attempts):
            candidate = _crop_box(hw, aug, rng)
            ok = _inside(crop_uv(item.uv[sel], candidate, size), size)
            if int(ok.sum()) > aug.min_pairs or float(ok.float().mean()) > aug.min_kept:
                box = candidate
                break
        uv[sel] = crop_uv(item.uv[sel], box, size)
        keep[sel] = _inside(uv[sel], size)
        images.append(_resize_crop(item.images[cam], box, size, labels=False))
        if maps is not None:
            new_maps.append(_resize_crop(maps[cam], box, size, labels=True))
        boxes.append(box)
    out = replace(item, images=torch.stack(images), point_index=item.point_index[keep],
                  camera_index=item.camera_index[keep], uv=uv[keep],
                  image_view=f"{item.image_view}crop{boxes}->{list(size)};")
    return out, (torch.stack(new_maps) if maps is not None else None)


def _horizontal_flip(item: ImageLidarItem, maps: torch.Tensor | None, aug: HorizontalFlip,
                     rng: torch.Generator) -> tuple[ImageLidarItem, torch.Tensor | None]:
    width = item.images.shape[2]
    flips = [_uniform(rng) < aug.p for _ in range(item.images.shape[0])]
    images, uv = item.images.clone(), item.uv.clone()
    maps = maps.clone() if maps is not None else None
    for cam, flip in enumerate(flips):
        if flip:
            images[cam] = images[cam].flip(1)
            if maps is not None:
                maps[cam] = maps[cam].flip(1)
            sel = item.camera_index == cam
            uv[sel, 0] = width - 1 - uv[sel, 0]
    view = f"{item.image_view}hflip{[int(f) for f in flips]};" if any(flips) else item.image_view
    return replace(item, images=images, uv=uv, image_view=view), maps


# Geometry in float32 whatever the run's --amp: under CPU bf16 autocast a rotated 50 m coordinate would be off by
# centimetres (the items live on the CPU).
@torch.autocast("cpu", enabled=False)
def augment_item(item: ImageLidarItem, augmentations: list[Augmentation], rng: torch.Generator,
                 maps: torch.Tensor | None = None) -> tuple[ImageLidarItem, torch.Tensor | None]:
    """Apply `augmentations` in order; `maps` (C, H, W) are per-camera label maps cropped and flipped with the
    images (nearest). Returns the new item and maps; the input item is not modified."""
    for aug in augmentations:
        if isinstance(aug, RotationZ):
            item = _rotation(item, aug, rng)
        elif isinstance(aug, FlipXY):
            item = _flip_xy(item, aug, rng)
        elif isinstance(aug, ScaleCloud):
            item = _scale(item, aug, rng)
        elif isinstance(aug, LimitPoints):
            item = _limit_points(item, aug, rng)
        elif isinstance(aug, DropCuboids):
            item = _drop_cuboids(item, aug, rng)
        elif isinstance(aug, ResizedCrop):
            item, maps = _resized_crop(item, maps, aug, rng)
        else:
            item, maps = _horizontal_flip(item, maps, aug, rng)
    return item, maps
