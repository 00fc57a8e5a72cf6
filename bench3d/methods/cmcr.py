"""CMCR: contrastive distillation plus modality-specific pretext tasks and a unified codebook
(research/methods.md §4; mechanics read in Eaphan/CMCR, `pretrain/lightning_trainer.py`).

The LiDAR trunk carries two per-point heads: *shared* (L2-normalised; contrastive and codebook) and
*specific* (occupancy). The image side is the frozen 2D teacher with two trainable 1×1 decoders, shared
(normalised) and specific. Per batch:

- L_cl: InfoNCE (point -> pixel, τ) over `pairs` point-pixel pairs drawn from the whole batch (PPKT);
- L_mim: each image masked with probability `image_prob`, then each 16×16 cell with `patch_prob`; masked
  pixels never pair with points; specific + quantised shared pixel features reconstruct the unmasked image
  through a 3-conv decoder (MSE on [0, 1] pixels, every pixel);
- L_occ + L_int: occupancy queries (`models.cmcr.occupancy`) read specific + quantised shared point features;
- codebook: commitment of both modalities and cross-modal code matching on a second draw of `pairs` pairs,
  then one EMA step from those pairs (`models.cmcr.codebook`);
- L_orth: 0.1·‖Sᵀ P̂‖_F / 64² between the shared and normalised specific point features.

With a component off its terms go; without the codebook the pretext heads read the unquantised shared
features. With all four off this is PPKT (tested). Only the trunk transfers.
"""

from __future__ import annotations

from dataclasses import dataclass
import torch
import torch.nn.functional as F
from pydantic import Field
from torch import nn

from bench3d.methods.augment import augment_item
from bench3d.methods.base import MethodAdapter, PretrainContext
from bench3d.methods.config import PretrainingConfig, Settings
from bench3d.methods.contrastive import info_nce
from bench3d.methods.distill import ImageLidarItem, prepare_image_lidar, sample_features
from bench3d.methods.registry import register
from bench3d.methods.slidr import pixel_of
from bench3d.models.cmcr.codebook import UnifiedCodebook, orthogonality_loss
from bench3d.models.cmcr.image import ReconstructionDecoder, patch_masks
from bench3d.models.cmcr.occupancy import OccupancyHead, occupancy_losses, occupancy_queries


class MaskingConfig(Settings):
    image_prob: float = Field(0.5, ge=0, le=1)  # chance that an image is masked at all
    patch: int = Field(16, gt=0)  # cell size in pixels
    patch_prob: float = Field(0.5, ge=0, le=1)  # chance that a cell of a masked image is zeroed


class OccupancyConfig(Settings):
    queries: int = Field(2048, ge=3)  # per scan, in thirds: inside, outside, far
    shell: float = Field(0.1, gt=0)  # metres behind / in front of the surface
    radius: float = Field(1.0, gt=0)  # neighbour search radius (m)
    max_neighbours: int = Field(32, gt=0)
    width: int = Field(128, gt=0)


class CodebookConfig(Settings):
    size: int = Field(400, gt=1)
    decay: float = Field(0.999, gt=0, lt=1)
    eps: float = Field(1e-5, gt=0)
    commitment: float = Field(0.25, ge=0)


class CMCRConfig(PretrainingConfig):
    shared_dim: int = Field(64, gt=0)  # width of the shared and specific features (and of the codes)
    temperature: float = Field(0.07, gt=0)
    pairs: int = Field(2048, gt=0)  # point-pixel pairs drawn per batch (contrastive; again for the codebook)
    masking: MaskingConfig = MaskingConfig()
    occupancy: OccupancyConfig = OccupancyConfig()
    codebook: CodebookConfig = CodebookConfig()
    orthogonality_weight: float = Field(0.1, ge=0)


@dataclass
class _Pairs:
    """The batch's usable point-pixel pairs: shared point and pixel features (P, D)."""

    points: torch.Tensor
    pixels: torch.Tensor


@register
class CMCR(MethodAdapter):
    """Pretrains the `lidar` trunk with shared/specific heads, masked image modelling, occupancy estimation,
    a unified EMA codebook and an orthogonality term against a frozen 2D teacher."""

    name = "cmcr"
    config_schema = CMCRConfig

    def _on(self, component: str) -> bool:
        return self.components[component]

    def build_heads(self, backbones: nn.ModuleDict, ctx: PretrainContext) -> nn.Module:
        cfg, dim = self.config, self.config.shared_dim
        trunk = backbones["lidar"].out_channels
        heads: dict[str, nn.Module] = {"point_shared": nn.Linear(trunk, dim),
                                       "pixel_shared": nn.Conv2d(ctx.teacher.dim, dim, 1)}
        if self._on("occupancy_estimation") or self._on("orthogonality"):
            heads["point_specific"] = nn.Linear(trunk, dim)
        if self._on("masked_image_modelling"):
            heads["pixel_specific"] = nn.Conv2d(ctx.teacher.dim, dim, 1)
            heads["reconstruction"] = ReconstructionDecoder(dim)
        if self._on("occupancy_estimation"):
            heads["occupancy"] = OccupancyHead(dim, cfg.occupancy.width)
        if self._on("unified_codebook"):
            c = cfg.codebook
            heads["codebook"] = UnifiedCodebook(c.size, dim, c.decay, c.eps, c.commitment)
        return nn.ModuleDict(heads)

    def prepare(self, ctx: PretrainContext, sample_token: str) -> ImageLidarItem:
        return prepare_image_lidar(ctx, sample_token, self.config.max_points, self.config.max_image_size)

    def _with_codes(self, heads: nn.Module, shared: torch.Tensor) -> torch.Tensor:
        """What the pretext heads add to the specific features: the shared ones, quantised when the codebook
        is on (straight-through, with the codes as they were before this step's EMA)."""
        return heads["codebook"].quantise(shared) if self._on("unified_codebook") else shared

    def loss(self, backbones: nn.ModuleDict, heads: nn.Module, items: list[ImageLidarItem], ctx: PretrainContext,
             rng: torch.Generator) -> dict[str, torch.Tensor]:
        cfg, dev = self.config, ctx.device
        items = [augment_item(it, cfg.augmentations, rng)[0] for it in items]
        feats = backbones["lidar"]([it.points.to(dev) for it in items])
        point_pairs, pixel_pairs = [], []
        terms: dict[str, list[torch.Tensor]] = {}
        for item, f in zip(items, feats):
            shared = F.normalize(heads["point_shared"](f), dim=1)
            mask = self._mask(item, rng) if self._on("masked_image_modelling") else None
            images = item.images.to(dev)
            with torch.no_grad():  # the 2D encoder is frozen
                maps = ctx.teacher.encode(images.masked_fill(mask.to(dev)[..., None], 0) if mask is not None
                                          else images)
            keep = self._unmasked_pairs(item, mask)
            cams, uv = item.camera_index[keep].to(dev), item.uv[keep].to(dev)
            hw = tuple(item.images.shape[1:3])
            pixel_shared = heads["pixel_shared"](maps)  # (C, D, h, w): sampled at the pairs, and decoded below
            # index_select: a deterministic backward for points paired more than once (see occupancy_losses)
            point_pairs.append(shared.index_select(0, item.point_index[keep].to(dev)))
            pixel_pairs.append(F.normalize(sample_features(pixel_shared, cams, uv, hw), dim=1))
            if mask is not None:
                terms.setdefault("reconstruction", []).append(
                    self._reconstruction(heads, maps, F.normalize(pixel_shared, dim=1), images))
            specific = heads["point_specific"](f) if "point_specific" in heads else None
            if self._on("occupancy_estimation"):
                queries = occupancy_queries(item.points.to(dev), cfg.occupancy.queries, cfg.occupancy.shell, rng)
                occ, inten = occupancy_losses(heads["occupancy"], specific + self._with_codes(heads, shared),
                                              item.points[:, :3].to(dev), queries, cfg.occupancy.radius,
                                              cfg.occupancy.max_neighbours)
                terms.setdefault("occupancy", []).append(occ)
                terms.setdefault("intensity", []).append(inten)
            if self._on("orthogonality"):
                terms.setdefault("orthogonality", []).append(cfg.orthogonality_weight
                                                             * orthogonality_loss(shared, specific))
        pairs = _Pairs(torch.cat(point_pairs), torch.cat(pixel_pairs))
        losses = {name: torch.stack(v).mean() for name, v in terms.items()}
        losses["contrastive"] = self._contrastive(pairs, rng)
        if self._on("unified_codebook"):
            losses.update(self._codebook_terms(heads["codebook"], pairs, rng))
        return losses

    # ---- pieces -----------------------------------------------------------------------------------------
    def _mask(self, item: ImageLidarItem, rng: torch.Generator) -> torch.Tensor:
        m = self.config.masking
        return patch_masks(item.images.shape[0], tuple(item.images.shape[1:3]), m.image_prob, m.patch, m.patch_prob,
                           rng)

    @staticmethod
    def _unmasked_pairs(item: ImageLidarItem, mask: torch.Tensor | None) -> torch.Tensor:
        """Boolean selection of the item's pairs whose pixel is not masked (all of them without a mask)."""
        if mask is None:
            return torch.ones(len(item.point_index), dtype=torch.bool)
        row, col = pixel_of(item.uv, tuple(mask.shape[1:]))
        return ~mask[item.camera_index, row, col]

    def _reconstruction(self, heads: nn.Module, maps: torch.Tensor, shared: torch.Tensor,
                        images: torch.Tensor) -> torch.Tensor:
        """MSE between the decoded image and the unmasked one, on [0, 1] pixels. The shared features are
        quantised at the decoder's resolution and then upsampled (the release upsamples first; quantising
        every full-resolution pixel against 400 codes is the expensive order for the same information).
        `shared`: the normalised shared pixel features of `maps`."""
        c, d, h, w = shared.shape
        flat = shared.permute(0, 2, 3, 1).reshape(-1, d)
        codes = self._with_codes(heads, flat).reshape(c, h, w, d).permute(0, 3, 1, 2)
        x = F.interpolate(heads["pixel_specific"](maps) + codes, size=tuple(images.shape[1:3]), mode="bilinear",
                          align_corners=False)
        target = images.permute(0, 3, 1, 2).float() / 255.0
        return F.mse_loss(heads["reconstruction"](x), target)

    def _draw(self, pairs: _Pairs, rng: torch.Generator) -> torch.Tensor:
        n = len(pairs.points)
        return torch.randperm(n, generator=rng)[:self.config.pairs].to(pairs.points.device)

    def _contrastive(self, pairs: _Pairs, rng: torch.Generator) -> torch.Tensor:
        pick = self._draw(pairs, rng)
        return info_nce(pairs.points[pick], pairs.pixels[pick], self.config.temperature)

    def _codebook_terms(self, codebook: UnifiedCodebook, pairs: _Pairs, rng: torch.Generator
                        ) -> dict[str, torch.Tensor]:
        """Commitment and code matching on a fresh draw of pairs, then the EMA step from the same pairs."""
        pick = self._draw(pairs, rng)
        p, v = pairs.points[pick], pairs.pixels[pick]
        commit_p, commit_v = codebook.commitment_losses(p, v)
        matching = codebook.code_matching_loss(p, v)
        codebook.ema_update(p, v)
        return {"commit_point": commit_p, "commit_pixel": commit_v, "code_matching": matching}
