"""A kept downstream model (a run with `keep_weights`) brought back and applied to one frame: what
`bench3d show --run` draws beside the ground truth. The weights load strictly, after their sha256 is checked
against the run record, into the architecture the record names; nothing falls back to a fresh model."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from bench3d.data.nuscenes.tables import split_scene_names
from bench3d.datasets import DatasetSpec
from bench3d.errors import ConfigError, DataError
from bench3d.methods import build_method
from bench3d.models.backbone import build_backbone
from bench3d.results import ResultsStore
from bench3d.results.provenance import file_sha256
from bench3d.results.record import RunRecord
from bench3d.tasks import Task, build_task
from bench3d.tasks.base import DownstreamModel
from bench3d.tasks.prediction import FramePrediction

SAMPLE_SEED = 0  # the runner's SUBSAMPLE_SEED: the same input points as evaluation saw


@dataclass
class KeptModel:
    record: RunRecord
    task: Task
    model: DownstreamModel


def load_kept_model(store: ResultsStore, run_id: str, dataset: DatasetSpec) -> KeptModel:
    """The trained model of run `run_id`; errors say how to get one when the run kept none."""
    if not store.has(run_id):
        raise ConfigError(f"no run {run_id!r} in the results store {store.root}")
    record = store.read(run_id)
    weights = record.metrics.get("weights")
    if not weights:
        raise ConfigError(f"run {run_id} kept no trained model; rerun it with `bench3d run ... --keep-weights` "
                          "(a new run id) or use a protocol card with `keep_weights: true`")
    path = store.root / weights["file"]
    if not path.is_file():
        raise DataError(path, "the kept model of this run is missing", f"rerun run {run_id} with --keep-weights")
    if file_sha256(path) != weights["sha256"]:
        raise DataError(path, "sha256 differs from the one its run record holds (the file was changed)",
                        "delete it and rerun the run with --keep-weights")
    components = record.provenance.resolved_config["method"].get("components") or None
    task, model, _ = load_downstream_model(path, dataset, record.preset, components)
    return KeptModel(record, task, model)


def load_downstream_model(path: Path, dataset: DatasetSpec, preset: str | None = None,
                          components: dict[str, bool] | None = None) -> tuple[Task, DownstreamModel, dict[str, Any]]:
    """A model saved in bench3d's downstream format (`weights/<run id>.pt`): the task from its saved arguments,
    the architecture from its method's backbone config, the weights loaded strictly; in eval mode. `preset`
    is the file's own unless given (older files lack it)."""
    saved = torch.load(path, map_location="cpu", weights_only=False)
    preset = saved.get("preset", preset)
    if preset is None:
        raise DataError(path, "names no preset (a file from an older bench3d)", "keep it again with --keep-weights")
    task = build_task(saved["task"], saved["task_args"], f"{path}: task_args")
    adapter = build_method(saved["method"], preset, components=components)
    configs = adapter.backbone_configs()
    if saved["backbone"] not in configs:
        raise DataError(path, f"names backbone {saved['backbone']!r}, which method {saved['method']!r} does not "
                              f"provide ({sorted(configs)})", "rerun the run with this version of bench3d")
    model = task.build_model(build_backbone(configs[saved["backbone"]]), dataset)
    model.load_state_dict(saved["state_dict"], strict=True)
    return task, model.eval(), saved


def first_eval_token(dataset: DatasetSpec) -> str:
    """The first keyframe of the first validation scene present (frames the model never trained on)."""
    reader = dataset.open_reader()
    names = set(split_scene_names(dataset.dataroot, dataset.version, dataset.val_split))
    for seq in reader.sequences():
        if seq.name in names:
            return seq.sample_tokens[0]
    raise DataError(Path(dataset.dataroot) / dataset.version / "scene.json",
                    f"no scene of split {dataset.val_split!r}", "pass --sample or --scene")


def predict_frame(kept: KeptModel, dataset: DatasetSpec, token: str,
                  device: torch.device = torch.device("cpu")) -> FramePrediction:
    sample = kept.task.load(dataset.open_reader(), dataset, [token], False, SAMPLE_SEED)[0]
    return kept.task.predict(kept.model.to(device), sample, device)
