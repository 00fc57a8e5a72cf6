"""GeoMIM (Liu et al., ICCV 2023): masked image modelling of six camera views whose target is a frozen
LiDAR teacher's BEV feature map, reached through a decoder with cross-view attention, decoupled semantic and
geometry branches and an LSS view transform (models/geomim). The camera encoder — a Swin without shifted
windows, with an absolute position embedding — is all that transfers; every other module is
pretraining-only. Each step draws one permutation of the 1/32 token grid for the whole batch and every view,
splits it into two complementary halves, encodes both in one pass with attention blocked across them and
decodes each half separately (visible tokens + mask tokens at the other half's places); the loss is the MSE
to the patch-normalised teacher BEV over all cells plus 0.01 x BCE of the predicted depth bins against the
one-hot LiDAR depth, averaged over the decoded halves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import Field, PositiveInt
from torch import nn

from bench3d.data.sensor_geometry import bottom_centre_crop, frame_point_subset
from bench3d.errors import ConfigError
from bench3d.geometry import invert_transform
from bench3d.methods.base import BevTeacherRequest, MethodAdapter, PretrainContext
from bench3d.methods.config import OptimisationConfig
from bench3d.methods.registry import register
from bench3d.models.backbone import BackboneConfig
from bench3d.models.bev.grid import BevGrid
from bench3d.models.bev.lss import depth_bins, frustum_cells, lidar_depth_onehot
from bench3d.models.camera.swin import SWIN_SIZES, SwinConfig
from bench3d.models.geomim.decoder import EncoderNeck, GeoMIMDecoder, camera_numbers
from bench3d.models.geomim.lift import GeoMIMLift
from bench3d.models.geomim.targets import complementary_groups, depth_bce, patch_normalise

TOKEN_STRIDE = 32  # masks live on the encoder's 1/32 grid
DECODER_STRIDE = 16  # the decoder and the view transform work at 1/16


class GeoMIMConfig(OptimisationConfig):
    """A GeoMIM preset (card `methods/geomim.yaml`; each value's source is commented there)."""

    encoder_size: Literal["tiny", "paper"] = "tiny"
    read_size: list[PositiveInt] = Field(min_length=2, max_length=2)  # (H, W) the images are decoded at
    crop: list[PositiveInt] = Field(min_length=2, max_length=2)  # (H, W) bottom-centre crop, multiples of 32
    decoder_dim: PositiveInt
    decoder_heads: PositiveInt
    decoder_depth: PositiveInt
    cva_after: list[int]  # 0-based semantic blocks followed by a cross-view attention block
    geometry_tap: int  # the semantic block whose output feeds the geometry branch
    geometry_depth: PositiveInt
    geometry_cva_after: list[int]
    depth: list[float] = Field(min_length=3, max_length=3)  # LSS depth bins: min, max, step (m)
    context_channels: PositiveInt
    target_patch: PositiveInt  # BEV cells per side of a target-normalisation patch
    depth_weight: float = Field(0.01, ge=0)
    teacher: Literal["lidar_det", "lidar_ssl", "checkpoint"] = "lidar_det"
    # lidar_det: whose LiDAR backbone the detector trains (default random init); lidar_ssl: the LiDAR SSL method
    # whose checkpoint is the teacher (default scalr).
    teacher_method: str | None = None
    max_points: int | None = Field(None, gt=0)  # LiDAR points per frame (teacher input and depth target)
    clip_grad_norm: float | None = Field(None, gt=0)


@dataclass
class GeoMIMItem:
    token: str
    images: torch.Tensor  # (V, H, W, 3) uint8, cropped
    cameras: torch.Tensor  # (V, 22) camera numbers
    cells: torch.Tensor  # (V, D, h, w) frustum cells of the fine grid at 1/16
    depth: torch.Tensor  # (V, D, h, w) one-hot LiDAR depth at 1/16
    target: torch.Tensor  # (C, nx, ny) teacher BEV


@register
class GeoMIM(MethodAdapter):
    """GeoMIM pretraining of the no-shift Swin camera encoder against a frozen LiDAR BEV teacher."""

    name = "geomim"
    config_schema = GeoMIMConfig  # type: ignore[assignment]
    uses_teacher = False  # no 2D image teacher: the teacher is the LiDAR BEV one
    config: GeoMIMConfig

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        c = self.config
        if any(v % TOKEN_STRIDE for v in c.crop) or any(a < b for a, b in zip(c.read_size, c.crop)):
            raise ConfigError(f"{self.card.source}: preset {self.preset!r}: `crop` {c.crop} must be multiples of "
                              f"{TOKEN_STRIDE} no larger than `read_size` {c.read_size}")
        if self.config.teacher == "checkpoint" and not self.teacher_checkpoint:
            raise ConfigError("GeoMIM with `teacher: checkpoint` needs --teacher-checkpoint PATH (a LiDAR BEV model "
                              "in bench3d's downstream format, e.g. weights/<run id>.pt of a det3d run)")
        if not self.components["decoupled_decoders"] and self.components["camera_aware_depth"]:
            # The camera-aware gate sits on the geometry branch: without the branch it has nothing to gate.
            self.components = {**self.components, "camera_aware_depth": False}

    # ---- identity -----------------------------------------------------------------------------------
    def backbone_configs(self) -> dict[str, BackboneConfig]:
        return {"camera": SwinConfig(size=self.config.encoder_size, absolute_position=True,
                                     position_grid_for=tuple(self.config.crop))}

    def bev_teacher_request(self) -> BevTeacherRequest:
        c = self.config
        if c.teacher == "lidar_det":
            return BevTeacherRequest("lidar_det", method=c.teacher_method or "random", protocol="det3d_teacher")
        if c.teacher == "lidar_ssl":
            return BevTeacherRequest("lidar_ssl", method=c.teacher_method or "scalr")
        return BevTeacherRequest("checkpoint", path=self.teacher_checkpoint)

    # ---- modules ------------------------------------------------------------------------------------
    def build_heads(self, backbones: nn.ModuleDict, ctx: PretrainContext) -> nn.Module:
        c, comp = self.config, self.components
        teacher = self._teacher(ctx)
        encoder = backbones["camera"]
        c16, c32 = encoder.channels[-2], encoder.channels[-1]
        heads16 = SWIN_SIZES[c.encoder_size][2][-2]
        decoder = GeoMIMDecoder(
            c.decoder_dim, c.decoder_heads, c.decoder_depth,
            tuple(c.cva_after) if comp["cross_view_attention"] else (),
            c.geometry_tap if comp["decoupled_decoders"] else None, c.geometry_depth,
            tuple(c.geometry_cva_after) if comp["cross_view_attention"] else (), comp["camera_aware_depth"])
        lift_in = c.decoder_dim * (2 if comp["decoupled_decoders"] else 1)
        lift = GeoMIMLift(lift_in, len(depth_bins(*c.depth)), c.context_channels, fine_grid(teacher.grid),
                          teacher.channels)
        return nn.ModuleDict({"neck": EncoderNeck(c16, c32, heads16, c.decoder_dim), "decoder": decoder,
                              "lift": lift})

    def _teacher(self, ctx: PretrainContext):
        if ctx.bev_teacher is None:
            raise ConfigError("GeoMIM needs its LiDAR BEV teacher in the pretraining context; run it through the "
                              "harness (`bench3d pretrain --method geomim`), which builds the teacher")
        grid = ctx.bev_teacher.grid
        if grid.nx % self.config.target_patch or grid.ny % self.config.target_patch:
            raise ConfigError(f"{self.card.source}: `target_patch` {self.config.target_patch} does not divide the "
                              f"teacher's {grid.nx} x {grid.ny} BEV grid")
        return ctx.bev_teacher

    # ---- data ---------------------------------------------------------------------------------------
    def prepare(self, ctx: PretrainContext, sample_token: str) -> GeoMIMItem:
        c = self.config
        teacher = self._teacher(ctx)
        frame = ctx.reader.frame(sample_token, labels=False, boxes=False, max_image_size=tuple(c.read_size))
        points = frame_point_subset(frame.points[:, :4], c.max_points, sample_token)  # as downstream
        points_t = torch.from_numpy(np.ascontiguousarray(points, dtype=np.float32))
        g2l = invert_transform(frame.ego_to_global @ frame.lidar_to_ego)
        ch, cw = c.crop
        images, intrinsics, cam_to_lidar, numbers = [], [], [], []
        for cam in frame.cameras.values():
            h, w = cam.image.shape[:2]
            if h < ch or w < cw:
                raise ConfigError(f"camera {cam.channel} of sample {sample_token} is {h} x {w}, smaller than GeoMIM's "
                                  f"crop {ch} x {cw}; generate the world at a larger --image-size")
            image, k, (left, top) = bottom_centre_crop(cam.image, cam.intrinsic, (ch, cw))
            images.append(image)
            intrinsics.append(k)
            cam_to_lidar.append(g2l @ cam.ego_to_global @ cam.sensor_to_ego)
            numbers.append(camera_numbers(torch.from_numpy(k), torch.eye(2, dtype=torch.float64),
                                          torch.tensor([-left, -top], dtype=torch.float64),
                                          torch.from_numpy(np.asarray(cam.sensor_to_ego, dtype=np.float64))))
        k_t = torch.from_numpy(np.stack(intrinsics))
        c2l = torch.from_numpy(np.stack(cam_to_lidar))
        bins = depth_bins(*c.depth)
        hw = (ch // DECODER_STRIDE, cw // DECODER_STRIDE)
        return GeoMIMItem(
            token=sample_token, images=torch.from_numpy(np.stack(images)), cameras=torch.stack(numbers).float(),
            cells=frustum_cells(fine_grid(teacher.grid), bins, k_t, c2l, hw, DECODER_STRIDE),
            depth=lidar_depth_onehot(points_t, k_t, c2l, (ch, cw), hw, DECODER_STRIDE, bins),
            target=self._target(ctx, sample_token, points_t))

    def _target(self, ctx: PretrainContext, token: str, points: torch.Tensor) -> torch.Tensor:
        """The teacher's BEV of the frame, through the disk cache (the teacher is frozen: same bytes each epoch)."""
        teacher = self._teacher(ctx)
        key = ctx.disk_cache.key("geomim_teacher_bev", {"teacher": teacher.identity,
                                                        "max_points": self.config.max_points},
                                 ctx.reader.sample_files(token))
        return ctx.disk_cache.get_or_compute(key, lambda: teacher(points).float().cpu())

    # ---- loss ---------------------------------------------------------------------------------------
    def loss(self, backbones: nn.ModuleDict, heads: nn.Module, items: list[GeoMIMItem], ctx: PretrainContext,
             rng: torch.Generator) -> dict[str, torch.Tensor]:
        c, comp = self.config, self.components
        b, v = len(items), items[0].images.shape[0]
        dev = ctx.device
        encoder = backbones["camera"]
        gh, gw = c.crop[0] // TOKEN_STRIDE, c.crop[1] // TOKEN_STRIDE
        groups32 = complementary_groups(gh, gw, rng).to(dev)  # shared by the batch and every view
        images = torch.cat([it.images for it in items]).to(dev)
        maps = encoder.features(encoder.normalise(images), groups32.expand(b * v, gh, gw))
        groups16 = groups32.repeat_interleave(2, 0).repeat_interleave(2, 1)
        tokens = heads["neck"](maps[-2], maps[-1], groups16.expand(b * v, *groups16.shape))
        tokens = tokens.view(b, v, *tokens.shape[1:])
        cameras = torch.stack([it.cameras for it in items]).to(dev)
        cells = torch.stack([it.cells for it in items]).to(dev)
        onehot = torch.cat([it.depth for it in items]).to(dev)
        target = torch.stack([it.target for it in items]).to(dev)
        if comp["patch_norm_targets"]:
            target = patch_normalise(target, c.target_patch)
        # Complementary masking decodes both halves; without it one random half is seen and decoded.
        decoded = (0, 1) if comp["complementary_masking"] else (0,)
        reconstruction, depth_loss = tokens.new_zeros(()), tokens.new_zeros(())
        for g in decoded:
            semantic, geometry = heads["decoder"](tokens, groups16 == g, cameras)
            feats = semantic if geometry is None else torch.cat([geometry, semantic], dim=-1)
            depth, bev = heads["lift"](feats.permute(0, 1, 4, 2, 3), cells)
            reconstruction = reconstruction + F.mse_loss(bev.float(), target.float())
            if comp["depth_supervision"]:
                depth_loss = depth_loss + depth_bce(depth, onehot)
        out = {"reconstruction": reconstruction / len(decoded)}
        if comp["depth_supervision"]:
            out["depth"] = c.depth_weight * depth_loss / len(decoded)
        return out


def fine_grid(teacher_grid: BevGrid) -> BevGrid:
    """The LSS grid: the teacher's extent at half its cell (a stride-2 conv brings it back)."""
    return BevGrid(teacher_grid.x_min, teacher_grid.x_max, teacher_grid.y_min, teacher_grid.y_max,
                   teacher_grid.z_min, teacher_grid.z_max, teacher_grid.cell / 2)
