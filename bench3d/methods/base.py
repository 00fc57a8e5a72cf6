"""The method adapter contract (torchgeo-bench style).

The public methods do the fixed work — validate components, seed, batch, run the shared Trainer,
checkpoint and resume, load strictly — and call a few hooks that each method implements:
`prepare` (one sample's inputs, cached), `loss` (named losses of a batch) and optionally `build_heads`
(pretraining-only modules, dropped downstream).
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import nn

from bench3d.cards.schema import MethodCard
from bench3d.data.nuscenes import NuScenesReader
from bench3d.errors import ConfigError
from bench3d.harness.seeding import epoch_rng, seed_everything
from bench3d.harness.trainer import Trainer, build_optimizer, build_scheduler, save_atomic
from bench3d.models.encoder import EncoderConfig, LidarEncoder, load_encoder_state
from bench3d.models.teacher import ImageTeacher, build_teacher

log = logging.getLogger(__name__)


@dataclass
class PretrainContext:
    """What a pretraining step may use; built once per pretraining run."""

    reader: NuScenesReader
    sample_tokens: list[str]
    device: torch.device
    seed: int
    teacher: ImageTeacher | None = None
    cache: dict[str, Any] = field(default_factory=dict)


class MethodAdapter(ABC):
    name: ClassVar[str]
    uses_teacher: ClassVar[bool] = True

    def __init__(self, card: MethodCard, preset: str = "tiny", components: dict[str, bool] | None = None,
                 teacher_checkpoint: str | Path | None = None, overrides: dict[str, Any] | None = None) -> None:
        self.card = card
        self.preset = preset
        self.config = {**card.preset(preset), **(overrides or {})}
        declared = {c.name: c.default for c in card.components}
        unknown = sorted(set(components or {}) - set(declared))
        if unknown:
            raise ConfigError(f"method {card.name!r} has no component(s) {unknown}; declared: {sorted(declared)}")
        self.components = {**declared, **(components or {})}
        self.teacher_checkpoint = str(teacher_checkpoint) if teacher_checkpoint else None

    # ---- identity ---------------------------------------------------------------------------------
    @property
    def needs_pretraining(self) -> bool:
        return self.card.pretrains != "none"

    def resolved_config(self) -> dict[str, Any]:
        return {"method": self.card.name, "preset": self.preset, "config": self.config,
                "components": self.components, "teacher_checkpoint": self.teacher_checkpoint}

    def encoder_config(self) -> EncoderConfig:
        return EncoderConfig.from_method_config(self.config)

    # ---- hooks --------------------------------------------------------------------------------------
    def build_heads(self, encoder: LidarEncoder, ctx: PretrainContext) -> nn.Module:
        """Pretraining-only modules (projection heads, ...); not part of the downstream backbone."""
        return nn.ModuleDict()

    @abstractmethod
    def prepare(self, ctx: PretrainContext, sample_token: str) -> Any:
        """Inputs of one training sample (cached across epochs)."""

    @abstractmethod
    def loss(self, encoder: LidarEncoder, heads: nn.Module, items: list[Any], ctx: PretrainContext,
             rng: torch.Generator) -> dict[str, torch.Tensor]:
        """Named losses of one batch; their sum is minimised."""

    def on_epoch_start(self, ctx: PretrainContext, epoch: int) -> None:
        """Reset per-epoch state (memory banks, ...)."""

    def warm_cache(self, ctx: PretrainContext, prepared: Any) -> None:
        """Load from disk whatever else a step on `prepared` reads, so timed steps measure compute only."""

    # ---- fixed work ---------------------------------------------------------------------------------
    def batch_order(self, ctx: PretrainContext, epoch: int) -> list[list[str]]:
        """Shuffled batches of anchor tokens, from (seed, epoch) so a resumed run replays them."""
        order = epoch_rng(ctx.seed, epoch).permutation(len(ctx.sample_tokens))
        bs = int(self.config.get("batch_size", 1))
        tokens = [ctx.sample_tokens[i] for i in order]
        return [tokens[i:i + bs] for i in range(0, len(tokens), bs)]

    def pretrain(self, ctx: PretrainContext, checkpoint_path: Path,
                 on_epoch_end: Callable[[int, dict[str, float]], None] | None = None) -> dict[str, Any]:
        """Pretrain on `ctx.sample_tokens`; write the final checkpoint; resumable from `<path>.state`."""
        if not self.needs_pretraining:
            raise ConfigError(f"method {self.card.name!r} has no pretraining (card field `pretrains: none`)")
        seed_everything(ctx.seed)
        encoder, heads, model, optimizer = self.build_training(ctx)
        epochs = int(self.config["epochs"])
        scheduler = build_scheduler(optimizer, self.config.get("schedule", "cosine"), epochs)
        state_path = checkpoint_path.with_name(checkpoint_path.name + ".state")
        trainer = Trainer(model, optimizer, scheduler, epochs, state_path)
        items: dict[str, Any] = {}

        def load(token: str) -> Any:
            if token not in items:
                items[token] = self.prepare(ctx, token)
            return items[token]

        def batches(epoch: int):
            self.on_epoch_start(ctx, epoch)
            gen = torch.Generator().manual_seed(ctx.seed * 1_000_003 + epoch)
            for tokens in self.batch_order(ctx, epoch):
                yield [load(t) for t in tokens], gen

        state = trainer.fit(batches, lambda b: self.loss(encoder, heads, b[0], ctx, b[1]), on_epoch_end)
        save_atomic({"method": self.card.name, "config": self.resolved_config(),
                     "encoder": encoder.state_dict(), "encoder_config": self.encoder_config().model_dump(),
                     "heads": heads.state_dict()}, checkpoint_path)
        state_path.unlink(missing_ok=True)
        return {"epochs": state.epoch, "loss_history": state.history,
                "final_loss": sum(state.history[-1].values()) if state.history else float("nan")}

    def build_training(self, ctx: PretrainContext) -> tuple[LidarEncoder, nn.Module, nn.Module, torch.optim.Optimizer]:
        """Teacher (into ctx), encoder, pretraining heads, their container and the optimiser."""
        if self.uses_teacher and ctx.teacher is None:
            ctx.teacher = build_teacher(self.teacher_checkpoint, **self.config.get("teacher", {})).to(ctx.device)
        encoder = LidarEncoder(self.encoder_config()).to(ctx.device)
        heads = self.build_heads(encoder, ctx).to(ctx.device)
        model = nn.ModuleDict({"encoder": encoder, "heads": heads})
        optimizer = build_optimizer([{"params": list(model.parameters())}], self.config.get("optimizer", "adamw"),
                                    float(self.config["lr"]), momentum=float(self.config.get("momentum", 0.9)),
                                    dampening=float(self.config.get("dampening", 0.0)),
                                    weight_decay=float(self.config.get("weight_decay", 0.0)))
        return encoder, heads, model, optimizer

    def load_encoder(self, checkpoint: Path | None, seed: int = 0) -> LidarEncoder:
        """The downstream backbone: pretrained weights loaded strictly, or a seeded random init."""
        torch.manual_seed(seed)
        encoder = LidarEncoder(self.encoder_config())
        if checkpoint is None:
            if self.needs_pretraining:
                raise ConfigError(f"method {self.card.name!r} needs a pretraining checkpoint; run `bench3d pretrain` first")
            return encoder
        load_encoder_state(encoder, checkpoint, allowed=self.card.checkpoint_key_exceptions)
        return encoder
