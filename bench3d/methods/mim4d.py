"""MIM4D (Zou et al., 2024): masked modelling of multi-view video. Each sample is the six cameras over
`frames` frames — the keyframe and the previous 12 Hz camera sweeps, each frame with its own ego pose. 30 % of
each image's 1/32 cells are zeroed at the input; a ConvNeXt encoder + FPN and a depth-weighted lift put
every frame into a voxel volume in that frame's LiDAR coordinates. Two key frames (frame 0 and one random
other) are dropped in turn: the other frames' volumes, warped into the key frame by ego pose, feed a
short-term and a long-term branch that predict the key volume. Both the directly encoded and the predicted
key volumes are rendered NeuS-style along LiDAR rays (pixel rays fill the rest); loss = 10·L1(rgb) +
10·L1(depth / 51.2), averaged over the key frames. Only the image encoder transfers (models/mim4d).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch
from pydantic import Field, PositiveInt
from torch import nn

from bench3d.data.sensor_geometry import bottom_centre_crop, frame_point_subset
from bench3d.errors import ConfigError
from bench3d.geometry import invert_transform
from bench3d.methods.base import MethodAdapter, PretrainContext
from bench3d.methods.config import OptimisationConfig, Settings
from bench3d.methods.registry import register
from bench3d.models.backbone import BackboneConfig
from bench3d.models.camera.convnext import ConvNeXtConfig
from bench3d.models.mim4d.encoding import FrameEncoder, input_mask
from bench3d.models.mim4d.rays import ViewRays, choose_rays, lidar_candidates
from bench3d.models.mim4d.render import SDFField, render_loss, render_rays
from bench3d.models.mim4d.temporal import TemporalDecoder, adjacent_frame, key_frames
from bench3d.models.mim4d.volume import VoxelGrid, voxel_projection, warp_volume

TOKEN_STRIDE = 32  # the masked cells and the crop live on the encoder's 1/32 grid


class VolumeConfig(Settings):
    """The voxel volume in each frame's LiDAR coordinates: extent (m) and voxels per axis."""

    x: list[float] = Field(min_length=2, max_length=2)
    y: list[float] = Field(min_length=2, max_length=2)
    z: list[float] = Field(min_length=2, max_length=2)
    shape: list[PositiveInt] = Field(min_length=3, max_length=3)  # nx, ny, nz

    def grid(self) -> VoxelGrid:
        return VoxelGrid(self.x[0], self.x[1], self.y[0], self.y[1], self.z[0], self.z[1], *self.shape)


class MIM4DConfig(OptimisationConfig):
    """A MIM4D preset (card `methods/mim4d.yaml`; each value's source is commented there)."""

    encoder_size: Literal["tiny", "paper"] = "tiny"
    read_size: list[PositiveInt] = Field(min_length=2, max_length=2)
    crop: list[PositiveInt] = Field(min_length=2, max_length=2)  # bottom-centre, multiples of 32
    frames: int = Field(3, ge=1, le=4)  # keyframe + frames-1 previous camera sweeps
    mask_ratio: float = Field(0.3, ge=0, lt=1)
    neck_channels: PositiveInt
    depth: list[float] = Field(min_length=3, max_length=3)  # d_min, d_max, bins
    context_channels: PositiveInt
    volume: VolumeConfig
    volume_channels: PositiveInt
    temporal_hidden: PositiveInt
    rays_per_view: PositiveInt
    uniform_samples: PositiveInt
    importance_samples: int = Field(ge=0)
    near: float = Field(gt=0)
    far: float = Field(gt=0)
    sdf_width: PositiveInt
    sdf_blocks: PositiveInt
    rgb_blocks: PositiveInt
    rgb_weight: float = Field(10.0, ge=0)
    depth_weight: float = Field(10.0, ge=0)
    depth_scale: float = Field(51.2, gt=0)
    backbone_lr_mult: float = Field(0.1, gt=0)
    max_points: int | None = Field(None, gt=0)
    clip_grad_norm: float | None = Field(None, gt=0)


@dataclass
class MIM4DItem:
    token: str
    images: torch.Tensor  # (T, V, H, W, 3) uint8, cropped; frame 0 is the keyframe
    projection: torch.Tensor  # (T, V, nz, nx, ny, 3) where each voxel centre falls in each view's frustum
    poses: torch.Tensor  # (T, 4, 4) float64 frame LiDAR -> global
    rays: list[list[ViewRays]]  # [frame][view] LiDAR ray candidates


@register
class MIM4D(MethodAdapter):
    """MIM4D pretraining of a ConvNeXt camera encoder by rendering voxel volumes of masked multi-view video."""

    name = "mim4d"
    config_schema = MIM4DConfig  # type: ignore[assignment]
    uses_teacher = False
    frames_knob = "frames"
    config: MIM4DConfig

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        c, comp = self.config, self.components
        if any(v % TOKEN_STRIDE for v in c.crop) or any(a < b for a, b in zip(c.read_size, c.crop)):
            raise ConfigError(f"{self.card.source}: preset {self.preset!r}: `crop` {c.crop} must be multiples of "
                              f"{TOKEN_STRIDE} no larger than `read_size` {c.read_size}")
        if comp["temporal_decoder"] and not (comp["short_term"] or comp["long_term"]):
            raise ConfigError("MIM4D's temporal decoder needs the short_term or the long_term branch on")
        if not comp["direct_render"] and not (comp["temporal_decoder"] and c.frames > 1):
            raise ConfigError("MIM4D with direct_render off renders only predicted volumes: it needs the temporal "
                              "decoder on and frames > 1")
        if not (comp["rgb_loss"] or comp["depth_loss"]):
            raise ConfigError("MIM4D needs the rgb_loss or the depth_loss component on")

    def backbone_configs(self) -> dict[str, BackboneConfig]:
        return {"camera": ConvNeXtConfig(size=self.config.encoder_size)}

    @property
    def grid(self) -> VoxelGrid:
        return self.config.volume.grid()

    @property
    def temporal(self) -> bool:
        return self.components["temporal_decoder"] and self.config.frames > 1

    # ---- modules ------------------------------------------------------------------------------------
    def build_heads(self, backbones: nn.ModuleDict, ctx: PretrainContext) -> nn.Module:
        c, comp = self.config, self.components
        encoder = backbones["camera"]
        heads = nn.ModuleDict({
            "frames": FrameEncoder(encoder.channels[-2], encoder.channels[-1], c.neck_channels, int(c.depth[2]),
                                   c.context_channels, c.volume_channels),
            "field": SDFField(c.volume_channels, c.sdf_width, c.sdf_blocks, c.rgb_blocks)})
        if self.temporal:
            heads["temporal"] = TemporalDecoder(c.volume_channels * self.grid.nz, c.temporal_hidden,
                                                comp["short_term"], comp["long_term"])
        return heads

    def optimizer_groups(self, backbones: nn.ModuleDict, heads: nn.Module) -> list[dict[str, Any]]:
        """The image encoder at `backbone_lr_mult` x lr (official: 0.1), everything else at lr."""
        return [{"params": list(backbones.parameters()), "lr": self.config.lr * self.config.backbone_lr_mult},
                {"params": list(heads.parameters())}]

    # ---- data ---------------------------------------------------------------------------------------
    def prepare(self, ctx: PretrainContext, sample_token: str) -> MIM4DItem:
        c = self.config
        reader = ctx.reader
        frame = reader.frame(sample_token, labels=False, boxes=False, max_image_size=tuple(c.read_size))
        points = frame_point_subset(frame.points[:, :3], c.max_points, sample_token)
        lidar_to_global = frame.ego_to_global @ frame.lidar_to_ego
        views = self._frame_views(reader, frame, sample_token)  # [frame][view]
        # Frame t's LiDAR coordinates: the LiDAR mount at the ego pose of that frame's front camera.
        poses = [lidar_to_global] + [v[0].ego_to_global @ frame.lidar_to_ego for v in views[1:]]
        ch, cw = c.crop
        images, projections, rays = [], [], []
        pts_global = points.astype(np.float64) @ lidar_to_global[:3, :3].T + lidar_to_global[:3, 3]
        for t, frame_views in enumerate(views):
            to_frame = invert_transform(poses[t])
            # Static-world assumption: the keyframe's LiDAR points stand for frame t's (1/12 s apart).
            pts_t = torch.from_numpy(pts_global @ to_frame[:3, :3].T + to_frame[:3, 3])
            imgs, ks, c2fs, frame_rays = [], [], [], []
            for cam in frame_views:
                h, w = cam.image.shape[:2]
                if h < ch or w < cw:
                    raise ConfigError(f"camera {cam.channel} of sample {sample_token} is {h} x {w}, smaller than "
                                      f"MIM4D's crop {ch} x {cw}; generate the world at a larger --image-size")
                image, k_np, _ = bottom_centre_crop(cam.image, cam.intrinsic, (ch, cw))
                imgs.append(image)
                k = torch.from_numpy(k_np)
                c2f = torch.from_numpy(to_frame @ cam.ego_to_global @ cam.sensor_to_ego)
                ks.append(k)
                c2fs.append(c2f)
                frame_rays.append(lidar_candidates(pts_t, k, c2f, (ch, cw)))
            images.append(torch.from_numpy(np.stack(imgs)))
            projections.append(voxel_projection(self.grid, torch.stack(ks), torch.stack(c2fs), (ch, cw),
                                                (c.depth[0], c.depth[1], int(c.depth[2]))))
            rays.append(frame_rays)
        return MIM4DItem(sample_token, torch.stack(images), torch.stack(projections),
                         torch.from_numpy(np.stack(poses)), rays)

    def _frame_views(self, reader: Any, frame: Any, token: str) -> list[list[Any]]:
        """[frame][camera] views: the keyframe's, then the previous camera sweeps, newest first; a camera with
        fewer sweeps repeats its oldest available image (official loader)."""
        keyframe = list(frame.cameras.values())
        if self.config.frames == 1:
            return [keyframe]
        sweeps_of = getattr(reader, "camera_sweeps", None)
        if sweeps_of is None:
            raise ConfigError(f"MIM4D with frames={self.config.frames} needs camera sweeps; the "
                              f"{type(reader).__name__} reader has none (use --set frames=1)")
        per_camera = []
        for cam in keyframe:
            sweeps = sweeps_of(token, cam.channel, self.config.frames - 1, tuple(self.config.read_size))
            sweeps = [cam] + sweeps
            sweeps += [sweeps[-1]] * (self.config.frames - len(sweeps))
            per_camera.append(sweeps)
        return [[per_camera[v][t] for v in range(len(keyframe))] for t in range(self.config.frames)]

    # ---- loss ---------------------------------------------------------------------------------------
    def encode(self, backbones: nn.ModuleDict, heads: nn.Module, items: list[MIM4DItem], frames: list[int],
               rng: torch.Generator, device: torch.device) -> torch.Tensor:
        """Volumes (B, len(frames), C, nz, nx, ny) of the chosen frames; every image is encoded on its own
        (LayerNorm / GroupNorm only), so no frame's volume depends on another frame's pixels."""
        c = self.config
        images = torch.stack([it.images[frames] for it in items]).to(device)  # (B, F, V, H, W, 3)
        b, f, v = images.shape[:3]
        encoder = backbones["camera"]
        x = encoder.normalise(images.flatten(0, 2))
        if self.components["masking"] and c.mask_ratio > 0:
            mask = input_mask(x.shape[0], x.shape[2], x.shape[3], TOKEN_STRIDE, c.mask_ratio, rng)
            x = x * mask.to(device=x.device, dtype=x.dtype)
        maps = encoder.features(x)
        projection = torch.stack([it.projection[frames] for it in items]).to(device).flatten(0, 2)
        volumes = heads["frames"](maps[-2], maps[-1], projection, v)  # (B·F, C, nz, nx, ny)
        return volumes.view(b, f, *volumes.shape[1:])

    def predict(self, heads: nn.Module, volumes: torch.Tensor, poses: torch.Tensor, key: int) -> torch.Tensor:
        """The key frame's volume predicted from the others' (B, T, C, nz, nx, ny), warped into the key frame;
        volumes[:, key] is never read."""
        grid, t = self.grid, volumes.shape[1]
        warped = {}
        for s in range(t):
            if s != key:
                src_from_dst = torch.linalg.inv(poses[:, s]) @ poses[:, key]
                warped[s] = warp_volume(volumes[:, s], grid, src_from_dst.to(volumes.device)).flatten(1, 2)
        bev = heads["temporal"](warped[adjacent_frame(key, t)], list(warped.values()))
        return bev.view_as(volumes[:, key])

    def loss(self, backbones: nn.ModuleDict, heads: nn.Module, items: list[MIM4DItem], ctx: PretrainContext,
             rng: torch.Generator) -> dict[str, torch.Tensor]:
        c, comp = self.config, self.components
        dev = ctx.device
        keys = key_frames(c.frames, rng) if self.temporal else [0]
        frames = list(range(c.frames)) if self.temporal else keys
        volumes = self.encode(backbones, heads, items, frames, rng, dev)
        poses = torch.stack([it.poses for it in items])
        totals: dict[str, torch.Tensor] = {}
        for key in keys:
            origins, dirs, colour, depth, lidar = self._rays(items, key, rng, dev)
            rendered = []
            if comp["direct_render"]:
                rendered.append(volumes[:, frames.index(key)])
            if self.temporal:
                rendered.append(self.predict(heads, volumes, poses, key))
            for volume in rendered:
                out = render_rays(heads["field"], volume, self.grid, origins, dirs, c.near, c.far,
                                  c.uniform_samples, c.importance_samples, rng)
                terms = render_loss(out, colour, depth, lidar, c.depth_scale,
                                    c.rgb_weight if comp["rgb_loss"] else 0.0,
                                    c.depth_weight if comp["depth_loss"] else 0.0)
                for name, value in terms.items():
                    totals[name] = totals.get(name, 0) + value
        return {name: value / len(keys) for name, value in totals.items()}

    def _rays(self, items: list[MIM4DItem], key: int, rng: torch.Generator,
              device: torch.device) -> tuple[torch.Tensor, ...]:
        """(B, V·R, ...) rays of the key frame: per view LiDAR rays first, pixel rays for the rest."""
        per_item = []
        for it in items:
            chosen = [choose_rays(view, it.images[key, v], self.config.rays_per_view, rng)
                      for v, view in enumerate(it.rays[key])]
            per_item.append([torch.cat(parts) for parts in zip(*chosen)])
        return tuple(torch.stack(parts).to(device) for parts in zip(*per_item))
