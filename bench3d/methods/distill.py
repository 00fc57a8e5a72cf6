"""Shared pieces of image-to-LiDAR distillation: one sample's inputs and teacher features at pixels."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from bench3d.data.frame import Frame
from bench3d.data.nuscenes.projection import point_pixel_pairs
from bench3d.methods.base import PretrainContext


@dataclass
class ImageLidarItem:
    """One frame's LiDAR points, its six images and the point-pixel pairs between them."""

    token: str
    points: torch.Tensor  # (N, 4) float32, LiDAR frame
    images: torch.Tensor  # (C, H, W, 3) uint8
    point_index: torch.Tensor  # (M,) int64
    camera_index: torch.Tensor  # (M,) int64
    uv: torch.Tensor  # (M, 2) float32 pixel coordinates
    lidar_to_global: np.ndarray  # (4, 4), for temporal methods
    scene: str
    image_view: str = ""  # how augmentation changed the images (crop boxes, flips); "" for the decoded images


def subsample(points: np.ndarray, max_points: int | None, seed: int) -> np.ndarray:
    """Indices of a fixed random subset (the same every epoch), or all points."""
    n = len(points)
    if max_points is None or n <= max_points:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, max_points, replace=False))


def item_from_frame(frame: Frame, max_points: int | None, seed: int) -> ImageLidarItem:
    keep = subsample(frame.points, max_points, seed)
    sub = frame.points[keep]
    view = Frame(**{**frame.__dict__, "points": sub, "labels": None})
    pairs = point_pixel_pairs(view)
    return ImageLidarItem(
        token=frame.token,
        points=torch.from_numpy(np.ascontiguousarray(sub[:, :4])),
        images=torch.from_numpy(np.stack([c.image for c in frame.cameras.values()])),
        point_index=torch.from_numpy(pairs.point_index),
        camera_index=torch.from_numpy(pairs.camera_index),
        uv=torch.from_numpy(pairs.uv),
        lidar_to_global=frame.ego_to_global @ frame.lidar_to_ego,
        scene=frame.scene_name,
    )


def prepare_image_lidar(ctx: PretrainContext, token: str, max_points: int | None,
                        max_image_size: list[int] | None = None) -> ImageLidarItem:
    """One sample's points, images (decoded at most at `max_image_size`, H and W) and point-pixel pairs."""
    size = (max_image_size[0], max_image_size[1]) if max_image_size else None
    frame = ctx.reader.frame(token, labels=False, boxes=False, max_image_size=size)
    return item_from_frame(frame, max_points, seed=ctx.seed)


def sample_features(feature_maps: torch.Tensor, camera_index: torch.Tensor, uv: torch.Tensor,
                    image_hw: tuple[int, int]) -> torch.Tensor:
    """Bilinear samples (M, D) of per-camera feature maps (C, D, h, w) at pixel coordinates uv (M, 2)."""
    h, w = image_hw
    # Pixel centres -> normalised [-1, 1] with align_corners=False semantics.
    grid = torch.stack([(uv[:, 0] + 0.5) / w * 2 - 1, (uv[:, 1] + 0.5) / h * 2 - 1], dim=1)
    out = torch.empty(len(uv), feature_maps.shape[1], dtype=feature_maps.dtype, device=feature_maps.device)
    for cam in torch.unique(camera_index).tolist():
        sel = camera_index == cam
        g = grid[sel].view(1, 1, -1, 2)
        out[sel] = F.grid_sample(feature_maps[cam:cam + 1], g, mode="bilinear", align_corners=False)[0, :, 0].T
    return out


def teacher_targets(ctx: PretrainContext, item: ImageLidarItem) -> torch.Tensor:
    """Teacher features (M, D) at the item's pixels, L2-normalised, on the device.

    With `ctx.cache_teacher` they are computed once per (sample files, teacher identity, pixels, device type)
    and read from the disk cache afterwards: the frozen teacher's forward — a ViT-L on six images for the
    paper presets — is the expensive part of a distillation step. Always float32 and outside autocast, so a
    cold and a warm run use the same bits."""
    assert ctx.teacher is not None
    if not ctx.cache_teacher:
        return _compute_targets(ctx, item)
    pixels = hashlib.sha256(item.camera_index.numpy().tobytes() + item.uv.numpy().tobytes()).hexdigest()
    config = {**ctx.teacher.identity, "image_hw": list(item.images.shape[1:3]), "pixels": pixels,
              "device_type": ctx.device.type}
    if item.image_view:  # augmented images: the crop and flips are part of what the teacher saw
        config["image_view"] = item.image_view
    key = ctx.disk_cache.key("teacher_at_pixels", config, ctx.reader.sample_files(item.token))
    cached = ctx.disk_cache.get(key)
    if cached is not None:
        return cached.to(ctx.device)
    targets = _compute_targets(ctx, item)
    ctx.disk_cache.put(key, targets.cpu())
    return targets


def _compute_targets(ctx: PretrainContext, item: ImageLidarItem) -> torch.Tensor:
    with torch.autocast(ctx.device.type, enabled=False):
        maps = ctx.teacher.encode(item.images.to(ctx.device)).float()
        feats = sample_features(maps, item.camera_index.to(ctx.device), item.uv.to(ctx.device),
                                tuple(item.images.shape[1:3]))
    return F.normalize(feats, dim=1)
