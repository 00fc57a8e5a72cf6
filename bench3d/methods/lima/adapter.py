"""The LiMA adapter: memory-enhanced image-to-LiDAR feature distillation over T frames.

Per anchor frame t: (1) cross-view aggregation turns the teacher features of every camera that sees a
point into one unified target; (2) long-term feature propagation carries the unified targets of frames
t-1 .. t-T+1 into frame t with the ego poses and fuses them with the current ones; (3) the memory bank
holds past frames' unified targets, so history is not re-encoded by the teacher at every step (frames
are visited in time order within each sequence, several sequences side by side, so the bank hits);
(4) the cross-sequence memory keeps targets from other sequences as extra negatives of a contrastive
term. The distillation itself is ScaLR's normalised feature regression on the memory-enhanced targets.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from bench3d.engine.seeding import epoch_rng
from bench3d.errors import ConfigError
from bench3d.methods.augment import augment_item
from bench3d.methods.augment_config import CLOUD_KINDS
from bench3d.methods.base import MethodAdapter, PretrainContext
from bench3d.methods.contrastive import info_nce
from bench3d.methods.distill import ImageLidarItem, prepare_image_lidar, teacher_targets
from bench3d.methods.lima.aggregation import aggregate_views
from bench3d.methods.lima.config import LimaConfig
from bench3d.methods.lima.memory import CrossSequenceQueue, FifoBank, FrameTargets
from bench3d.methods.lima.propagation import fuse, propagate, to_current
from bench3d.methods.registry import register
@register
class LiMA(MethodAdapter):
    """Pretrains the `lidar` backbone on memory-enhanced targets over T frames (module docstring)."""

    name = "lima"
    config_schema = LimaConfig
    frames_knob = "frames"
    cache_component = "memory_bank"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        not_cloud = [a.kind for a in self.config.augmentations if a.kind not in CLOUD_KINDS]
        if not_cloud:  # the bank holds targets of whole past images at unmoved points: only the input may move
            raise ConfigError(f"{self.card.source}: preset {self.preset!r}: LiMA takes cloud augmentations only "
                              f"({sorted(CLOUD_KINDS)}), not {not_cloud}: its memory bank keeps targets of "
                              "uncropped images per point")
        self.frames = self.config.frames
        self._items: OrderedDict[str, ImageLidarItem] = OrderedDict()
        self._keep_all = False  # warm_cache (timed studies) keeps every warmed frame in memory
        self.bank = FifoBank(0)
        self.queue = CrossSequenceQueue(0, 1)

    # ---- data order: sequences side by side, frames in time order ---------------------------------
    def batch_order(self, ctx: PretrainContext, epoch: int) -> list[list[str]]:
        wanted = set(ctx.sample_tokens)  # once, not per token
        by_scene: dict[str, list[str]] = {}
        for seq in ctx.reader.sequences():
            by_scene[seq.name] = [t for t in seq.sample_tokens if t in wanted]
        scenes = [s for s in sorted(by_scene) if by_scene[s]]
        order = [scenes[i] for i in epoch_rng(ctx.seed, epoch).permutation(len(scenes))]
        streams = self.config.batch_size
        pending = deque(list(by_scene[s]) for s in order)
        active: list[list[str]] = []
        batches = []
        while True:
            active = [q for q in active if q]
            while len(active) < streams and pending:
                active.append(pending.popleft())
            if not active:
                return batches
            batches.append([q.pop(0) for q in active])

    def on_epoch_start(self, ctx: PretrainContext, epoch: int) -> None:
        # Fresh memories each epoch: a run resumed at an epoch boundary sees exactly what it would have.
        self.bank = FifoBank(self.bank_capacity())
        cs = self.config.cross_sequence
        self.queue = CrossSequenceQueue(cs.queue if self.components["cross_sequence_memory"] else 0, ctx.teacher.dim)

    def bank_capacity(self) -> int:
        if not self.components["memory_bank"]:
            return 0
        return self.config.batch_size * self.frames

    def cost_report(self) -> dict[str, float]:
        return {"bank_hits": self.bank.hits, "bank_misses": self.bank.misses}

    # ---- modules and data -----------------------------------------------------------------------
    def build_heads(self, backbones: nn.ModuleDict, ctx: PretrainContext) -> nn.Module:
        return nn.ModuleDict({"projection": nn.Linear(backbones["lidar"].out_channels, ctx.teacher.dim)})

    def load_item(self, ctx: PretrainContext, token: str) -> ImageLidarItem:
        """A frame's inputs; the last few stay in a bounded LRU (history reuse without memory growth)."""
        if token in self._items:
            self._items.move_to_end(token)
            return self._items[token]
        item = prepare_image_lidar(ctx, token, self.config.max_points, self.config.max_image_size)
        self._items[token] = item
        while not self._keep_all and len(self._items) > 2 * self.config.batch_size * self.frames:
            self._items.popitem(last=False)
        return item

    def prepare(self, ctx: PretrainContext, sample_token: str) -> dict[str, Any]:
        past = ctx.reader.neighbours(sample_token, past=self.frames - 1)[:-1][::-1]  # newest first
        return {"item": self.load_item(ctx, sample_token), "past": past}

    def warm_cache(self, ctx: PretrainContext, prepared: dict[str, Any]) -> None:
        self._keep_all = True
        for token in prepared["past"]:
            self.load_item(ctx, token)

    # ---- targets ----------------------------------------------------------------------------------
    def current_targets(self, ctx: PretrainContext, item: ImageLidarItem) -> tuple[torch.Tensor, torch.Tensor]:
        """(point indices, targets): unified per point, or one row per point-pixel pair without CVA."""
        pair_feats = teacher_targets(ctx, item)
        if not self.components["cross_view_aggregation"]:
            return item.point_index.to(ctx.device), pair_feats
        return aggregate_views(pair_feats, item.point_index.to(ctx.device), item.uv.to(ctx.device),
                               tuple(item.images.shape[1:3]), len(item.points))

    def frame_targets(self, ctx: PretrainContext, item: ImageLidarItem, idx: torch.Tensor,
                      feats: torch.Tensor) -> FrameTargets:
        # Geometry in float64 (centimetres at city scale), on the step's device like the features.
        l2g = torch.from_numpy(item.lidar_to_global).to(feats.device)
        xyz = item.points[idx.cpu(), :3].to(device=feats.device, dtype=torch.float64)
        return FrameTargets(item.token, item.scene, xyz @ l2g[:3, :3].T + l2g[:3, 3], feats.detach())

    def past_targets(self, ctx: PretrainContext, token: str) -> FrameTargets:
        entry = self.bank.get(token)
        if entry is None:  # not in memory: encode the past frame with the teacher (the no-bank cost)
            item = self.load_item(ctx, token)
            idx, feats = self.current_targets(ctx, item)
            entry = self.frame_targets(ctx, item, idx, feats)
            self.bank.push(entry)
        return entry

    def enhanced_targets(self, ctx: PretrainContext, item: ImageLidarItem, past: list[str]
                         ) -> tuple[torch.Tensor, torch.Tensor]:
        idx, own_feats = self.current_targets(ctx, item)
        self.bank.push(self.frame_targets(ctx, item, idx, own_feats))
        if not self.components["feature_propagation"] or not past:
            return idx, own_feats
        n, dim = len(item.points), own_feats.shape[1]
        decay = self.config.decay
        entries = [self.past_targets(ctx, tok) for tok in past]
        xyz = torch.cat([e.points_global for e in entries])
        feats = torch.cat([e.features for e in entries])
        device = own_feats.device  # every tensor of the fusion lives where the features do
        weight = torch.cat([torch.full((len(e.features),), decay ** (age + 1), dtype=feats.dtype, device=device)
                            for age, e in enumerate(entries)])
        g2c = torch.from_numpy(np.linalg.inv(item.lidar_to_global)).to(device)
        current = item.points[:, :3].to(device=device, dtype=torch.float64)
        past_feats, past_mask = propagate(current, to_current(xyz, g2c), feats, weight, self.config.match_voxel)
        idx = idx.to(device)
        if not self.components["cross_view_aggregation"]:
            # Own pairs stay as they are; history adds targets only where no camera sees the point now.
            seen = torch.zeros(n, dtype=torch.bool, device=device)
            seen[idx] = True
            extra = past_mask & ~seen
            return torch.cat([idx, torch.nonzero(extra).squeeze(1)]), torch.cat([own_feats, F.normalize(past_feats[extra], dim=1)])
        own = torch.zeros(n, dim, dtype=own_feats.dtype, device=device)
        own_mask = torch.zeros(n, dtype=torch.bool, device=device)
        own[idx] = own_feats
        own_mask[idx] = True
        target, mask = fuse(own, own_mask, past_feats, past_mask, self.config.current_weight,
                            self.config.min_agreement)
        keep = torch.nonzero(mask).squeeze(1)
        return keep, target[keep]

    # ---- loss -------------------------------------------------------------------------------------
    def loss(self, backbones: nn.ModuleDict, heads: nn.Module, batch: list[dict[str, Any]], ctx: PretrainContext,
             rng: torch.Generator) -> dict[str, torch.Tensor]:
        items = [b["item"] for b in batch]
        # Cloud augmentations move the student's input only; targets stay with the points they belong to.
        inputs = [augment_item(it, self.config.augmentations, rng)[0].points for it in items]
        feats = backbones["lidar"]([p.to(ctx.device) for p in inputs])
        regression, contrast = [], []
        cs = self.config.cross_sequence
        for sample, item, f in zip(batch, items, feats):
            idx, target = self.enhanced_targets(ctx, item, sample["past"])
            if len(idx) == 0:
                continue
            student = F.normalize(heads["projection"](f[idx.to(ctx.device)]), dim=1)
            target = target.to(ctx.device)
            regression.append(((student - target) ** 2).sum(1).mean())
            if self.components["cross_sequence_memory"]:
                pick = torch.randperm(len(idx), generator=rng)[: cs.anchors]
                contrast.append(info_nce(student[pick], target[pick], cs.temperature,
                                         self.queue.negatives_for(item.scene).to(ctx.device)))
                self.queue.push(target, item.scene, cs.per_frame, rng)
        losses = {"regression": torch.stack(regression).mean()}
        if contrast:
            losses["cross_sequence"] = cs.weight * torch.stack(contrast).mean()
        return losses
