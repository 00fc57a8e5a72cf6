"""The method adapter contract (torchgeo-bench style).

The public methods do the fixed work — validate the preset against the adapter's typed schema and the
components against the card, seed, batch, run the engine's Trainer, checkpoint and resume, save the
backbones, load one strictly — and call a few hooks that each method implements: `prepare` (one sample's
inputs), `loss` (named losses of a batch) and optionally `build_heads` (pretraining-only modules, dropped
downstream) and `backbone_configs` (which backbones the method provides; default: one LiDAR UNet `lidar`).
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import torch
from pydantic import ValidationError
from torch import nn

from bench3d.cards.loader import schema_error
from bench3d.cards.schema import MethodCard
from bench3d.data.reader import Reader
from bench3d.engine.disk_cache import DiskCache
from bench3d.engine.distributed import Parallel
from bench3d.engine.loader import KeyedDataset, epoch_loader
from bench3d.engine.numerics import amp_mode
from bench3d.engine.seeding import epoch_rng, seed_everything, step_seed
from bench3d.engine.trainer import Trainer, build_optimizer, build_scheduler
from bench3d.errors import ConfigError
from bench3d.methods.config import LidarMethodConfig, PretrainingConfig, TeacherConfig
from bench3d.models.backbone import Backbone, BackboneConfig, build_backbone
from bench3d.models.bev.teacher import BevTeacher
from bench3d.models.checkpoint import load_backbone_state, save_checkpoint
from bench3d.models.sync_bn import convert_sync_batchnorm
from bench3d.models.teachers import ImageTeacher, build_teacher, resolve_teacher_kind

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BevTeacherRequest:
    """Which frozen LiDAR BEV teacher a method needs; the harness builds it (training it first if needed).

    kind `lidar_det`: the suite's supervised LiDAR detector — protocol `protocol` run on the LiDAR backbone of
    method `method` on the pretraining split with full box labels, kept with its own record; `lidar_ssl`: the
    LiDAR backbone of self-supervised method `method`, its point features pooled into the grid; `checkpoint`:
    a user's LiDAR BEV model at `path` (bench3d's downstream format), loaded strictly."""

    kind: str
    method: str = "random"
    protocol: str = "det3d_teacher"
    path: str | None = None


@dataclass
class PretrainContext:
    """What a pretraining step may use; built once per pretraining run."""

    reader: Reader
    sample_tokens: list[str]
    device: torch.device
    seed: int
    teacher: ImageTeacher | None = None
    workers: int = 0  # DataLoader worker processes that prepare samples
    disk_cache: DiskCache = field(default_factory=DiskCache)  # expensive per-sample products, shared by runs
    parallel: Parallel = field(default_factory=Parallel)  # this process's share of each step (DDP, grad-accum)
    cache_teacher: bool = False  # frozen-teacher features at pixels through `disk_cache` (the preset says)
    bev_teacher: BevTeacher | None = None  # frozen LiDAR BEV teacher (`MethodAdapter.bev_teacher_request`)


def pretrain_state_path(checkpoint_path: Path) -> Path:
    """Where a pretraining's resumable state lives until its record is published."""
    return checkpoint_path.with_name(checkpoint_path.name + ".state")


class MethodAdapter(ABC):
    """Extension point: one pretraining method. A new method is a subclass registered with
    `methods.registry.register` plus a card in `methods/<name>.yaml`."""

    #: Registry name; equals the card's `name`.
    name: ClassVar[str]
    #: Typed schema of the card's presets (unknown keys are errors).
    config_schema: ClassVar[type[LidarMethodConfig]] = PretrainingConfig
    #: Whether pretraining needs the frozen 2D teacher (built into `ctx.teacher`).
    uses_teacher: ClassVar[bool] = True
    #: Config key that sets how many frames one sample spans (the efficiency study sweeps it); None: one frame.
    frames_knob: ClassVar[str | None] = None
    #: Component whose off-state recomputes what a cache would keep (the efficiency study compares both).
    cache_component: ClassVar[str | None] = None

    def __init__(self, card: MethodCard, preset: str = "tiny", components: dict[str, bool] | None = None,
                 teacher_checkpoint: str | Path | None = None, overrides: dict[str, Any] | None = None,
                 synthetic_data: bool | None = None) -> None:
        """`synthetic_data`: whether the pretraining data is a synthetic release; it resolves `teacher.name: auto`
        (appearance there, efficientnet_lite0 on real data). Without it an `auto` teacher stays unresolved and
        pretraining refuses to start."""
        self.card = card
        self.preset = preset
        values = {**card.preset(preset), **(overrides or {})}
        try:
            self.config: Any = self.config_schema.model_validate(values)
        except ValidationError as exc:
            raise schema_error(f"{card.source}: preset {preset!r}", exc, self.config_schema) from None
        declared = {c.name: c.default for c in card.components}
        unknown = sorted(set(components or {}) - set(declared))
        if unknown:
            raise ConfigError(f"method {card.name!r} has no component(s) {unknown}; declared: {sorted(declared)}")
        self.components = {**declared, **(components or {})}
        self.teacher_checkpoint = str(teacher_checkpoint) if teacher_checkpoint else None
        teacher = getattr(self.config, "teacher", None)
        if self.uses_teacher and isinstance(teacher, TeacherConfig) and teacher.name == "auto" and (
                synthetic_data is not None or self.teacher_checkpoint):
            kind = resolve_teacher_kind("auto", synthetic_data, self.teacher_checkpoint)
            self.config = self.config.model_copy(update={"teacher": teacher.model_copy(update={"name": kind})})
        if self.uses_teacher and "camera" not in card.inputs:
            raise ConfigError(f"{card.source}: the {self.name!r} adapter distils a 2D teacher from camera images, "
                              f"but the card's `inputs` are {card.inputs}; add camera")
        provided = set(self.backbone_configs())
        if not set(card.pretrains) <= provided:
            raise ConfigError(f"{card.source}: `pretrains` names {sorted(set(card.pretrains) - provided)}, but the "
                              f"{self.name!r} adapter provides backbones {sorted(provided)}")

    # ---- identity ---------------------------------------------------------------------------------
    @property
    def needs_pretraining(self) -> bool:
        return bool(self.card.pretrains)

    @property
    def pretrain_seed_matters(self) -> bool:
        """Whether the pretraining seed changes the backbone: it seeds a pretraining, or a random init. False
        for fixed weights (ImageNet), whose "pretraining seeds" would be copies of one run."""
        return True

    def resolved_config(self) -> dict[str, Any]:
        return {"method": self.card.name, "preset": self.preset, "config": self.config.model_dump(),
                "components": self.components, "teacher_checkpoint": self.teacher_checkpoint}

    def backbone_configs(self) -> dict[str, BackboneConfig]:
        """The backbones this method provides downstream, by name."""
        return {"lidar": self.config.lidar_backbone()}

    def backbone_for(self, modalities: Collection[str]) -> str:
        """The name of the one backbone whose modality is in `modalities` (a task's `consumes`)."""
        configs = self.backbone_configs()
        names = [n for n, c in configs.items() if c.modality in modalities]
        if len(names) != 1:
            have = {n: c.modality for n, c in configs.items()}
            raise ConfigError(f"method {self.name!r} provides backbones {have}; the task consumes "
                              f"{sorted(modalities)}, so {'none' if not names else 'several'} match")
        return names[0]

    # ---- hooks --------------------------------------------------------------------------------------
    def build_heads(self, backbones: nn.ModuleDict, ctx: PretrainContext) -> nn.Module:
        """Pretraining-only modules (projection heads, ...); not part of the downstream backbone."""
        return nn.ModuleDict()

    @abstractmethod
    def prepare(self, ctx: PretrainContext, sample_token: str) -> Any:
        """Inputs of one training sample (cached across epochs)."""

    @abstractmethod
    def loss(self, backbones: nn.ModuleDict, heads: nn.Module, items: list[Any], ctx: PretrainContext,
             rng: torch.Generator) -> dict[str, torch.Tensor]:
        """Named losses of one batch; their sum is minimised."""

    def optimizer_groups(self, backbones: nn.ModuleDict, heads: nn.Module) -> list[dict[str, Any]]:
        """Parameter groups of the pretraining optimiser (a group's own "lr" overrides the preset's);
        default: one group, backbones then heads."""
        return [{"params": list(backbones.parameters()) + list(heads.parameters())}]

    def bev_teacher_request(self) -> BevTeacherRequest | None:
        """The frozen LiDAR BEV teacher the harness must build into `ctx.bev_teacher` (None: none)."""
        return None

    def on_epoch_start(self, ctx: PretrainContext, epoch: int) -> None:
        """Reset per-epoch state (memory banks, ...)."""

    def warm_cache(self, ctx: PretrainContext, prepared: Any) -> None:
        """Load from disk whatever else a step on `prepared` reads, so timed steps measure compute only."""

    def cost_report(self) -> dict[str, float]:
        """Counters of the method's own caches since the last `on_epoch_start` (hits, misses, ...)."""
        return {}

    # ---- fixed work ---------------------------------------------------------------------------------
    def batch_order(self, ctx: PretrainContext, epoch: int) -> list[list[str]]:
        """Shuffled batches of anchor tokens, from (seed, epoch) so a resumed run replays them."""
        order = epoch_rng(ctx.seed, epoch).permutation(len(ctx.sample_tokens))
        bs = self.config.batch_size
        tokens = [ctx.sample_tokens[i] for i in order]
        return [tokens[i:i + bs] for i in range(0, len(tokens), bs)]

    def pretrain(self, ctx: PretrainContext, checkpoint_path: Path,
                 on_epoch_end: Callable[[int, dict[str, float]], None] | None = None) -> dict[str, Any]:
        """Pretrain on `ctx.sample_tokens`; write the final checkpoint; resumable from `<path>.state`."""
        if not self.needs_pretraining:
            raise ConfigError(f"method {self.card.name!r} has no pretraining (card field `pretrains: []`)")
        seed_everything(ctx.seed)
        backbones, heads, model, optimizer = self.build_training(ctx)
        cfg = self.config
        epochs = cfg.epochs
        # Every epoch's batches: an adapter's batch order may vary in length between epochs (LiMA's streams).
        total_steps = sum(len(self.batch_order(ctx, e)) for e in range(epochs)) if cfg.per_step_schedule else 0
        scheduler = build_scheduler(optimizer, cfg.schedule, epochs, total_steps, **cfg.scheduler_arguments())
        published_amp = cfg.amp
        if published_amp != amp_mode():
            log.warning("%s preset %r was published with mixed precision %r; this run uses --amp %s (recorded)",
                        self.card.name, self.preset, published_amp, amp_mode())
        par = ctx.parallel
        trainer = Trainer(model, optimizer, scheduler, epochs, pretrain_state_path(checkpoint_path), parallel=par,
                          clip_grad_norm=getattr(self.config, "clip_grad_norm", None))
        # Samples stream: prepared by DataLoader workers for each batch, never all held in memory. Each rank
        # loads only its own micro-batches of every step.
        dataset = KeyedDataset(ctx.sample_tokens, lambda token: self.prepare(ctx, token))
        index = {t: i for i, t in enumerate(ctx.sample_tokens)}

        def steps(epoch: int):
            self.on_epoch_start(ctx, epoch)
            plan = [par.mine(tokens) for tokens in self.batch_order(ctx, epoch)]  # per step: [(micro no, tokens)]
            flat = [[index[t] for t in tokens] for mine in plan for _, tokens in mine]
            loaded = iter(epoch_loader(dataset, lambda e: flat, epoch, ctx.workers, ctx.device))
            for step_no, mine in enumerate(plan):
                yield [(next(loaded), torch.Generator().manual_seed(step_seed(ctx.seed, epoch, step_no, micro)))
                       for micro, _ in mine]

        state = trainer.fit(steps, lambda b: self.loss(backbones, heads, b[0], ctx, b[1]), on_epoch_end)
        if par.is_main:
            save_checkpoint(checkpoint_path, self.card.name, self.resolved_config(), dict(backbones.items()), heads)
        par.barrier()
        # The training state stays until the caller has published its record: a kill in between resumes
        # at the last epoch instead of retraining (the caller removes it, `pretrain_state_path`).
        return {"epochs": state.epoch, "loss_history": state.history, "segment_starts": state.segments,
                "final_loss": sum(state.history[-1].values()) if state.history else float("nan"),
                "earlier_wall_s": state.earlier_wall_s}

    def build_backbones(self) -> nn.ModuleDict:
        return nn.ModuleDict({name: build_backbone(cfg) for name, cfg in self.backbone_configs().items()})

    def build_training(self, ctx: PretrainContext) -> tuple[nn.ModuleDict, nn.Module, nn.Module, torch.optim.Optimizer]:
        """Teacher (into ctx), backbones, pretraining heads, their container and the optimiser."""
        cfg: PretrainingConfig = self.config
        if self.uses_teacher:
            if ctx.teacher is None:
                t = cfg.teacher
                kind = resolve_teacher_kind(t.name, None, None)  # `auto` must have been resolved (__init__)
                ctx.teacher = build_teacher(kind, self.teacher_checkpoint, t.layer, t.input_size, t.dim,
                                            t.stride).to(ctx.device)
            ctx.cache_teacher = cfg.cache_teacher_features
        backbones = self.build_backbones()
        if ctx.parallel.sync_bn:  # statistics over all ranks' micro-batches (CUDA only)
            backbones = convert_sync_batchnorm(backbones)
        backbones = backbones.to(ctx.device)
        heads = self.build_heads(backbones, ctx).to(ctx.device)
        model = nn.ModuleDict({"backbones": backbones, "heads": heads})
        optimizer = build_optimizer(self.optimizer_groups(backbones, heads), cfg.optimizer, cfg.lr,
                                    momentum=cfg.momentum, dampening=cfg.dampening, weight_decay=cfg.weight_decay)
        return backbones, heads, model, optimizer

    def load_backbone(self, name: str, checkpoint: Path | None, init_seed: int = 0) -> Backbone:
        """Backbone `name` for downstream use: pretrained weights loaded strictly, or — for a method that
        pretrains nothing — a random init seeded by `init_seed` (the run's pretraining seed)."""
        configs = self.backbone_configs()
        if name not in configs:
            raise ConfigError(f"method {self.name!r} has no backbone {name!r}; it provides {sorted(configs)}")
        torch.manual_seed(init_seed)
        backbone = build_backbone(configs[name])
        if name not in self.card.pretrains:
            if checkpoint is not None:
                raise ConfigError(f"method {self.name!r} does not pretrain backbone {name!r}; no checkpoint applies")
            return backbone
        if checkpoint is None:
            raise ConfigError(f"method {self.card.name!r} needs a pretraining checkpoint; run `bench3d pretrain` first")
        load_backbone_state(backbone, checkpoint, name, allowed=self.card.checkpoint_key_exceptions)
        return backbone
