"""Run specifications: what one pretraining or one evaluation run is, resolved to a hashable config."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench3d.datasets import DatasetSpec
from bench3d.methods import MethodAdapter
from bench3d.protocols import ResolvedProtocol
from bench3d.results.provenance import config_hash


@dataclass(frozen=True)
class PretrainSpec:
    method: str
    dataset: str
    preset: str = "tiny"
    seed: int = 0
    components: tuple[tuple[str, bool], ...] = ()
    teacher_checkpoint: str | None = None

    def resolve(self, adapter: MethodAdapter, dataset: DatasetSpec) -> dict[str, Any]:
        return {"kind": "pretrain", **adapter.resolved_config(), "dataset": dataset.as_config(),
                "pretrain_split": dataset.train_split, "seed": self.seed}


@dataclass(frozen=True)
class EvalSpec:
    method: str
    protocol: str
    dataset: str
    fraction: float
    draw: int
    seed: int
    preset: str = "tiny"
    pretrain_seed: int = 0
    components: tuple[tuple[str, bool], ...] = ()
    teacher_checkpoint: str | None = None

    def pretrain_spec(self) -> PretrainSpec:
        return PretrainSpec(self.method, self.dataset, self.preset, self.pretrain_seed, self.components,
                            self.teacher_checkpoint)

    def resolve(self, adapter: MethodAdapter, protocol: ResolvedProtocol, dataset: DatasetSpec,
                checkpoint_id: str | None, split_hash: str, backbone: str) -> dict[str, Any]:
        return {
            "kind": "evaluation",
            "method": adapter.resolved_config(),
            "checkpoint": checkpoint_id,
            # For a method without pretraining this seeds the backbone's init, so both kinds of row vary alike.
            "pretrain_seed": self.pretrain_seed,
            "backbone": backbone,
            "protocol": protocol.as_config(),
            "dataset": dataset.as_config(),
            "fraction": self.fraction,
            "draw": self.draw,
            "split_hash": split_hash,
            "seed": self.seed,
        }


def run_id_of(resolved: dict[str, Any]) -> str:
    return config_hash(resolved)

