"""What every BEV task (map segmentation, detection) shares: the arguments of the BEV stack (`BevTaskArgs`)
and the stack built from them; a frame's six images with intrinsics and camera-to-LiDAR transforms and its
LiDAR points (`SensorInputs`); and per batch the backbone's contribution — camera feature maps plus the
frustum cells LSS pools into, or LiDAR point features already pooled into the grid (parameter-free, so a
frozen probe caches it)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from pydantic import Field

from bench3d.data.reader import Reader
from bench3d.data.sensor_geometry import frame_point_subset
from bench3d.errors import ConfigError
from bench3d.geometry import invert_transform
from bench3d.models.backbone import Backbone
from bench3d.models.bev.grid import BevGrid, pool_to_bev
from bench3d.models.bev.lss import depth_bins, frustum_cells, lidar_depth_onehot
from bench3d.models.bev.stack import BevStack
from bench3d.tasks.base import TaskArgs

VIEW_STRIDE = 16  # the neck's output stride, where LSS lifts


class BevTaskArgs(TaskArgs):
    """The BEV stack's arguments, the same for every BEV task."""

    image_size: tuple[int, int] = (112, 200)  # (H, W) the camera backbone sees; larger images are shrunk
    grid_range: float = Field(51.2, gt=0)  # BEV features over +-range metres in x and y
    grid_cell: float = Field(0.8, gt=0)
    depth: tuple[float, float, float] = (1.0, 52.0, 1.0)  # LSS depth bins: min, max, step (m)
    context_channels: int = Field(32, gt=0)
    bev_channels: int = Field(64, gt=0)
    max_points: int | None = Field(None, gt=0)  # LiDAR backbones: input subsample per frame
    # Camera backbones: LSS lifts with the LiDAR's depth (one-hot per feature cell) instead of its own
    # prediction — ladder rung (c), the ceiling of the view transform.
    depth_oracle: bool = False

    def grid(self) -> BevGrid:
        r = self.grid_range
        return BevGrid(-r, r, -r, r, cell=self.grid_cell)

    def depths(self) -> torch.Tensor:
        return depth_bins(*self.depth)


def bev_stack(backbone: Backbone, args: BevTaskArgs) -> BevStack:
    """The shared BEV stack for `backbone` (its feature channels per scale, or its point-feature channels)."""
    channels = tuple(backbone.channels) if backbone.modality == "camera" else (backbone.out_channels,)
    return BevStack(backbone.modality, channels, args.grid(), len(args.depths()), args.context_channels,
                    args.bev_channels)


@dataclass
class SensorInputs:
    token: str
    images: torch.Tensor  # (V, H, W, 3) uint8
    intrinsics: torch.Tensor  # (V, 3, 3) float64, of `images` as decoded
    cam_to_lidar: torch.Tensor  # (V, 4, 4) float64: camera frame -> the keyframe's LiDAR frame
    points: torch.Tensor  # (N, 4) float32 x, y, z, intensity (LiDAR frame)
    lidar_to_global: np.ndarray  # (4, 4)


def load_sensor_inputs(reader: Reader, token: str, image_size: tuple[int, int], max_points: int | None,
                       seed: int, boxes: bool = False) -> tuple[SensorInputs, Any]:
    """The inputs of a keyframe, and the frame itself (for its targets)."""
    frame = reader.frame(token, labels=False, boxes=boxes, max_image_size=image_size)
    l2g = frame.ego_to_global @ frame.lidar_to_ego
    g2l = invert_transform(l2g)
    cams = list(frame.cameras.values())
    points = frame_point_subset(frame.points[:, :4], max_points, token, seed)
    inputs = SensorInputs(
        token=token,
        images=torch.from_numpy(np.stack([c.image for c in cams])),
        intrinsics=torch.from_numpy(np.stack([c.intrinsic for c in cams])),
        cam_to_lidar=torch.from_numpy(np.stack([g2l @ c.ego_to_global @ c.sensor_to_ego for c in cams])),
        points=torch.from_numpy(np.ascontiguousarray(points, dtype=np.float32)),
        lidar_to_global=l2g,
    )
    return inputs, frame


def backbone_inputs(backbone: Backbone, args: BevTaskArgs, inputs: Sequence[SensorInputs],
                    device: torch.device) -> list[dict[str, Any]]:
    """Per frame: {"maps", "cells"} for a camera backbone (plus "depth", the LiDAR one-hot depth, with
    `args.depth_oracle`), {"bev"} for a LiDAR one (BevStack's inputs)."""
    grid, depths = args.grid(), args.depths()
    if backbone.modality == "lidar":
        if args.depth_oracle:
            raise ConfigError("`depth_oracle: true` lifts camera features at LiDAR depth; it has no meaning for a "
                              "LiDAR backbone (use it with camera methods)")
        return [{"bev": bev} for bev in lidar_bev(backbone, grid, [s.points for s in inputs], device)]
    views = inputs[0].images.shape[0]
    maps = backbone(torch.cat([s.images for s in inputs]).to(device))
    strides = list(backbone.strides)
    at16 = maps[strides.index(VIEW_STRIDE)] if VIEW_STRIDE in strides else maps[-1]
    size = tuple(at16.shape[-2:])
    stride = round(inputs[0].images.shape[1] / size[0])
    out = []
    for k, s in enumerate(inputs):
        item = {"maps": [m[k * views:(k + 1) * views] for m in maps],
                "cells": frustum_cells(grid, depths, s.intrinsics.to(device), s.cam_to_lidar.to(device), size, stride)}
        if args.depth_oracle:
            item["depth"] = lidar_depth_onehot(s.points.to(device), s.intrinsics.to(device), s.cam_to_lidar.to(device),
                                               tuple(s.images.shape[1:3]), size, stride, depths.to(device))
        out.append(item)
    return out


def lidar_bev(backbone: Backbone, grid: BevGrid, points: Sequence[torch.Tensor], device: torch.device) -> list[torch.Tensor]:
    """Per frame, a LiDAR backbone's point features averaged into the grid's cells: (C, nx, ny)."""
    feats = backbone([p.to(device) for p in points])
    out = []
    for p, f in zip(points, feats):
        index = grid.flat_index(p[:, :3].to(device))
        out.append(pool_to_bev(f, index, grid.nx * grid.ny, mean=True).T.reshape(-1, grid.nx, grid.ny))
    return out


def stack_inputs(inputs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Per-frame head inputs -> one batch (tensors stacked; lists of maps stacked per scale)."""
    batch: dict[str, Any] = {}
    for key, value in inputs[0].items():
        if isinstance(value, list):
            batch[key] = [torch.stack([x[key][i] for x in inputs]) for i in range(len(value))]
        elif isinstance(value, torch.Tensor):
            batch[key] = torch.stack([x[key] for x in inputs])
    return batch
