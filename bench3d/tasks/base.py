"""The task contract (MTEB / lm-eval style): a downstream task is strictly separate from the method that
made the backbone. The harness hands a task one backbone; the task builds the downstream model around it,
makes its targets from Frames, has its loss and evaluates to metrics with one declared main score.

A new task is a `Task` subclass registered with `tasks.registry.register_task` plus protocol cards whose
`task: {name: <task>, ...}` carries its arguments (validated by the task's `Args` schema).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar, Generic, TypeVar

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict
from torch import nn

from bench3d.data.reader import Reader
from bench3d.datasets import DatasetSpec
from bench3d.errors import ConfigError
from bench3d.models.backbone import Backbone, Modality
from bench3d.results.record import ScoreSpec
from bench3d.tasks.prediction import FramePrediction


class TaskArgs(BaseModel):
    """Task-specific protocol arguments; unknown keys are errors."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class DownstreamModel(nn.Module):
    """A backbone and the task's trainable head (plus, for some tasks, a neck or view transform inside it).
    Protocols freeze `backbone` and train `head`; they never look further inside."""

    def __init__(self, backbone: Backbone, head: nn.Module) -> None:
        super().__init__()
        self.backbone = backbone
        self.head = head


SampleT = TypeVar("SampleT")
HeadInputT = TypeVar("HeadInputT")


class Task(ABC, Generic[SampleT, HeadInputT]):
    """Extension point: one downstream task.

    The protocol's generic loop calls, per batch, `head_inputs` (backbone features plus targets; under a
    frozen probe these are computed once and cached) and `loss` (head applied, named losses); after
    training, `evaluate` on the eval split.
    """

    #: Registry key; the protocol card's `task.name`.
    name: ClassVar[str]
    #: Backbone modalities this task can build on; the run matrix refuses any other.
    consumes: ClassVar[frozenset[Modality]]
    #: Schema of the protocol card's task arguments.
    Args: ClassVar[type[TaskArgs]] = TaskArgs
    #: The main score `evaluate` returns, its direction and how tables print it.
    score: ClassVar[ScoreSpec]
    #: Whether `evaluate` scores whole splits only (an official evaluator that checks every sample is there).
    evaluates_whole_split: ClassVar[bool] = False
    #: Whether `head_inputs` augments when given a generator (a protocol with `augment: true` needs it).
    augments: ClassVar[bool] = True
    #: Published numbers of this task (file in bench3d/reference), shown beside measured rows; None: none.
    reference_table: ClassVar[str | None] = None

    def __init__(self, args: TaskArgs) -> None:
        self.args = args

    @abstractmethod
    def load(self, reader: Reader, dataset: DatasetSpec, tokens: Sequence[str], train: bool,
             seed: int) -> Sequence[SampleT]:
        """Samples with targets for `tokens`; `train` samples may be subsampled per the task arguments.
        Return a sequence that reads each sample when indexed (`engine.loader.LazySamples`) so memory stays
        flat in the dataset's size; training reads it through DataLoader workers."""

    @abstractmethod
    def build_model(self, backbone: Backbone, dataset: DatasetSpec) -> DownstreamModel:
        """The downstream model around `backbone` (a fresh, seeded head)."""

    @abstractmethod
    def head_inputs(self, model: DownstreamModel, samples: Sequence[SampleT], device: torch.device,
                    rng: np.random.Generator | None) -> list[HeadInputT]:
        """Backbone outputs and targets of each sample, augmented when `rng` is given."""

    @abstractmethod
    def loss(self, model: DownstreamModel, inputs: Sequence[HeadInputT]) -> dict[str, torch.Tensor]:
        """Named losses of a batch of head inputs; their sum is minimised."""

    @abstractmethod
    def evaluate(self, model: DownstreamModel, samples: Sequence[SampleT], device: torch.device,
                 dataset: DatasetSpec) -> dict[str, Any]:
        """Metrics over all samples; must include `score.name`, plus raw counts for provenance."""

    def predict(self, model: DownstreamModel, sample: SampleT, device: torch.device) -> FramePrediction:
        """One sample's prediction as `FramePrediction` (what `bench3d show --run` draws beside the ground
        truth). Optional: a task that does not implement it cannot be drawn."""
        raise ConfigError(f"task {self.name!r} cannot draw its predictions (it has no `predict`)")
