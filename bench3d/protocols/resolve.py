"""A protocol card resolved for one preset: the card, its schedule and the task with typed arguments."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench3d.cards import ProtocolCard, load_protocol_card
from bench3d.cards.schema import Schedule
from bench3d.errors import ConfigError
from bench3d.tasks import Task, build_task


@dataclass(frozen=True)
class ResolvedProtocol:
    card: ProtocolCard
    preset: str
    schedule: Schedule
    task: Task
    #: Keep the trained downstream model beside the record (the card's `keep_weights`, or asked for by the run).
    keep_weights: bool = False

    @property
    def task_args(self) -> dict[str, Any]:
        return self.task.args.model_dump()

    def as_config(self) -> dict[str, Any]:
        """Everything of the protocol that can change a number: goes into the run id."""
        c = self.card
        return {"name": c.name, "version": c.version, "freeze": c.freeze, "bn_eval": c.bn_eval,
                "eval_split": c.eval_split, "checkpoint_rule": c.checkpoint_rule,
                **({"keep_weights": True} if self.keep_weights else {}),  # absent when off: existing ids hold
                "schedule": self.schedule.model_dump(exclude={"task"}),
                "task": {"name": self.task.name, **self.task_args}}


def resolve_protocol(name: str, preset: str, keep_weights: bool = False) -> ResolvedProtocol:
    """Load the card, pick the preset's schedule and validate the task arguments (card-level `task`
    merged with the preset's `task`) against the task's schema; errors name the card file and preset.
    `keep_weights` keeps the trained model even where the card does not (it joins the run id)."""
    card = load_protocol_card(name)
    schedule = card.schedule(preset)
    args = {k: v for k, v in card.task.items() if k != "name"} | schedule.task
    task = build_task(card.task_name, args, f"{card.source}: preset {preset!r}")
    if schedule.augment and not task.augments:
        raise ConfigError(f"{card.source}: preset {preset!r}: `augment: true`, but task {task.name!r} has no "
                          "augmentation; set `augment: false`")
    return ResolvedProtocol(card, preset, schedule, task, card.keep_weights or keep_weights)
