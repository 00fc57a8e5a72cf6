"""SLidR: superpixel-driven image-to-LiDAR contrastive distillation (research/methods.md §2.1).

Point features (projection to `projection_dim`, L2-normalised) are averaged over each superpoint — the
points that project into one SLIC superpixel — and pixel features (a trainable 1x1 projection of the
frozen teacher, upsampled to the image and L2-normalised) over the same superpixel; InfoNCE with
temperature 0.07 over the non-empty superpixels of the batch pulls each superpoint to its superpixel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import Field
from torch import nn

from bench3d.methods.augment import augment_item
from bench3d.methods.base import MethodAdapter, PretrainContext
from bench3d.methods.config import PretrainingConfig, Settings
from bench3d.methods.contrastive import info_nce, segment_mean
from bench3d.methods.distill import ImageLidarItem, prepare_image_lidar
from bench3d.methods.registry import register
from bench3d.methods.superpixels import slic_superpixels


class SlicConfig(Settings):
    n_segments: int = Field(150, gt=0)
    compactness: float = Field(6.0, gt=0)
    sigma: float = Field(3.0, ge=0)


class SlidrConfig(PretrainingConfig):
    projection_dim: int = Field(64, gt=0)  # shared embedding of point and pixel features
    temperature: float = Field(0.07, gt=0)
    slic: SlicConfig = SlicConfig()


@dataclass
class SuperpixelItem:
    frame: ImageLidarItem
    superpixels: torch.Tensor  # (C, H, W) int64 per-camera SLIC ids
    num_segments: int  # ids are < num_segments in every camera


def pixel_of(uv: torch.Tensor, hw: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
    """Integer (row, col) of continuous pixel coordinates, as SLidR rounds its projections."""
    col = uv[:, 0].round().long().clamp(0, hw[1] - 1)
    row = uv[:, 1].round().long().clamp(0, hw[0] - 1)
    return row, col


def superpixel_pairs(item: SuperpixelItem, point_feats: torch.Tensor, pixel_feats: torch.Tensor
                     ) -> tuple[torch.Tensor, torch.Tensor]:
    """(superpoint means, superpixel means) of the superpixels that hold at least one point.

    point_feats (M, D): features of the item's point-pixel pairs; pixel_feats (C, D, H, W).
    """
    cams, dim, h, w = pixel_feats.shape
    s = item.num_segments
    device = pixel_feats.device
    superpixels = item.superpixels.to(device)
    seg_pix = (torch.arange(cams, device=device).view(cams, 1, 1) * s + superpixels).reshape(-1)
    q, _ = segment_mean(pixel_feats.permute(0, 2, 3, 1).reshape(-1, dim), seg_pix, cams * s)
    fr = item.frame
    camera_index = fr.camera_index.to(device)
    row, col = pixel_of(fr.uv.to(device), (h, w))
    seg_pt = camera_index * s + superpixels[camera_index, row, col]
    k, counts = segment_mean(point_feats, seg_pt, cams * s)
    keep = counts > 0
    return k[keep], q[keep]


@register
class SLidR(MethodAdapter):
    """Pretrains the `lidar` backbone by superpixel-pooled InfoNCE against a frozen 2D teacher."""

    name = "slidr"
    config_schema = SlidrConfig

    def build_heads(self, backbones: nn.ModuleDict, ctx: PretrainContext) -> nn.Module:
        dim = self.config.projection_dim
        return nn.ModuleDict({"point": nn.Linear(backbones["lidar"].out_channels, dim),
                              "pixel": nn.Conv2d(ctx.teacher.dim, dim, kernel_size=1)})

    def prepare(self, ctx: PretrainContext, sample_token: str) -> SuperpixelItem:
        frame = prepare_image_lidar(ctx, sample_token, self.config.max_points, self.config.max_image_size)
        slic_cfg = self.config.slic.model_dump()

        def compute() -> torch.Tensor:  # the slow part: SLIC of six images; int16 ids keep entries small
            return torch.from_numpy(np.stack([slic_superpixels(img.numpy(), **slic_cfg)
                                              for img in frame.images]).astype(np.int16))

        key = ctx.disk_cache.key("slic", {**slic_cfg, "image_hw": list(frame.images.shape[1:3])},
                                 ctx.reader.sample_files(sample_token))
        segments = ctx.disk_cache.get_or_compute(key, compute).long()
        return SuperpixelItem(frame, segments, int(segments.max()) + 1)

    def _augmented(self, item: SuperpixelItem, rng: torch.Generator) -> SuperpixelItem:
        """The item under the preset's augmentations; the superpixel maps are cropped and flipped with the images."""
        if not self.config.augmentations:
            return item
        frame, maps = augment_item(item.frame, self.config.augmentations, rng, item.superpixels)
        assert maps is not None
        return SuperpixelItem(frame, maps, item.num_segments)

    def loss(self, backbones: nn.ModuleDict, heads: nn.Module, items: list[SuperpixelItem], ctx: PretrainContext,
             rng: torch.Generator) -> dict[str, torch.Tensor]:
        items = [self._augmented(it, rng) for it in items]
        feats = backbones["lidar"]([it.frame.points.to(ctx.device) for it in items])
        keys, queries = [], []
        for item, f in zip(items, feats):
            fr = item.frame
            maps = ctx.teacher.encode(fr.images.to(ctx.device))
            pixels = F.normalize(heads["pixel"](maps), dim=1)
            pixels = F.interpolate(pixels, size=tuple(fr.images.shape[1:3]), mode="bilinear", align_corners=False)
            points = F.normalize(heads["point"](f[fr.point_index.to(ctx.device)]), dim=1)
            k, q = superpixel_pairs(item, points, pixels)
            keys.append(k)
            queries.append(q)
        return {"superpixel_nce": info_nce(torch.cat(keys), torch.cat(queries), self.config.temperature)}
