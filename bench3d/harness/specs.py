"""Run specifications: what one pretraining or one evaluation run is, resolved to a hashable config.

The run id is the hash of the resolved config, which holds everything that can change a number: the
method's and protocol's typed configs, the dataset's identity (a content hash of its tables, not its path),
the split hash, the seeds, the checkpoint's sha256 and the numerics settings (threads, deterministic
algorithms, dtype, mixed precision, device type). Same id, same numbers on the same machine.
"""

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
    #: Method-config values that replace the card preset's (`--set KEY=VALUE`); they join the run id through the
    #: resolved config.
    settings: tuple[tuple[str, Any], ...] = ()

    def resolve(self, adapter: MethodAdapter, dataset: DatasetSpec, split_hash: str,
                numerics: dict[str, Any]) -> dict[str, Any]:
        return {"kind": "pretrain", **adapter.resolved_config(), "dataset": dataset.as_config(),
                "pretrain_split": dataset.train_split, "pretrain_split_hash": split_hash, "seed": self.seed,
                "numerics": numerics}


@dataclass(frozen=True)
class CheckpointRef:
    """The checkpoint an evaluation loads: the pretraining run that made it (or a user file) and its sha256."""

    run_id: str | None  # None: a user checkpoint without a pretraining record (allowed only explicitly)
    sha256: str
    source: str  # "pretraining" | "user"

    def as_config(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "sha256": self.sha256, "source": self.source}


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
    checkpoint: str | None = None  # a user's checkpoint file instead of the suite's own pretraining
    unrecorded_checkpoint: bool = False  # allow `checkpoint` without a pretraining record in the store
    settings: tuple[tuple[str, Any], ...] = ()  # method-config overrides, as PretrainSpec's
    #: The dataset the backbone is pretrained on when it is not `dataset` (cross-dataset transfer, e.g. pretrain on
    #: nuScenes, finetune on SemanticKITTI); None: the same dataset.
    pretrained_on: str | None = None

    @property
    def pretrain_dataset(self) -> str:
        return self.pretrained_on or self.dataset

    def pretrain_spec(self) -> PretrainSpec:
        return PretrainSpec(self.method, self.pretrain_dataset, self.preset, self.pretrain_seed, self.components,
                            self.teacher_checkpoint, self.settings)

    def resolve(self, adapter: MethodAdapter, protocol: ResolvedProtocol, dataset: DatasetSpec,
                checkpoint: CheckpointRef | None, split_hash: str, backbone: str,
                numerics: dict[str, Any]) -> dict[str, Any]:
        return {
            "kind": "evaluation",
            "method": adapter.resolved_config(),
            "checkpoint": checkpoint.as_config() if checkpoint else None,
            # For a method without pretraining this seeds the backbone's init, so both kinds of row vary alike.
            "pretrain_seed": self.pretrain_seed,
            "backbone": backbone,
            "protocol": protocol.as_config(),
            "dataset": dataset.as_config(),
            # Only across datasets (so same-dataset run ids stay as they were); the checkpoint's record holds the
            # pretraining dataset's identity.
            **({"pretrained_on": self.pretrain_dataset} if self.pretrain_dataset != self.dataset else {}),
            "fraction": self.fraction,
            "draw": self.draw,
            "split_hash": split_hash,
            "seed": self.seed,
            "numerics": numerics,
        }


def run_id_of(resolved: dict[str, Any]) -> str:
    return config_hash(resolved)
