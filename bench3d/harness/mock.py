"""A mock run for a new adapter (lm-eval / MTEB style): pretrain briefly on a tiny synthetic release,
reload every backbone strictly, and put each through every registered task that consumes its modality —
one training step and an evaluation with a finite main score. Seconds, CPU only."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from bench3d.datasets import resolve_dataset
from bench3d.harness.bev_teachers import attach_mock_teacher
from bench3d.methods import PretrainContext, build_method
from bench3d.tasks import registered_tasks

# Camera methods that crop read the tiny release's 56 x 100 images and crop to multiples of 32.
MOCK_OVERRIDES = {"epochs": 1, "max_points": 3000, "batch_size": 2, "read_size": [56, 100], "crop": [32, 96]}


def mock_run(method: str, release: Path | None = None, preset: str = "tiny") -> dict[str, Any]:
    """Raises on any failure; returns the pretraining loss and each (backbone, task) main score."""
    with tempfile.TemporaryDirectory(prefix="bench3d-mock-") as tmp:
        if release is None:
            from bench3d.synth import generate_release, tiny_config

            release = generate_release(Path(tmp) / "release", tiny_config(samples_per_scene=2))
        dataset = resolve_dataset("synth", release)
        reader = dataset.open_reader()
        tokens = [t for seq in reader.sequences() for t in seq.sample_tokens]
        schema = build_method(method, preset).config_schema
        adapter = build_method(method, preset, overrides={k: v for k, v in MOCK_OVERRIDES.items()
                                                          if k in schema.model_fields}, synthetic_data=dataset.synthetic)
        out: dict[str, Any] = {"method": method, "pretrains": adapter.needs_pretraining, "tasks": {}}
        checkpoint = None
        if adapter.needs_pretraining:
            ctx = PretrainContext(reader=reader, sample_tokens=tokens, device=torch.device("cpu"), seed=0)
            attach_mock_teacher(adapter, ctx, preset)
            checkpoint = Path(tmp) / "mock.pt"
            out["loss"] = adapter.pretrain(ctx, checkpoint)["final_loss"]
            if not math.isfinite(out["loss"]):
                raise AssertionError(f"{method}: pretraining loss is {out['loss']}")
        for name, config in adapter.backbone_configs().items():
            for task_name, task_cls in sorted(registered_tasks().items()):
                if config.modality not in task_cls.consumes:
                    continue
                task = task_cls(task_cls.Args())
                model = task.build_model(adapter.load_backbone(name, checkpoint if name in adapter.card.pretrains
                                                               else None), dataset)
                samples = task.load(reader, dataset, tokens[:2], train=True, seed=0)
                rng = np.random.default_rng(0) if task.augments else None
                losses = task.loss(model, task.head_inputs(model, samples, torch.device("cpu"), rng))
                sum(losses.values()).backward()
                scores = task.evaluate(model, eval_samples(task, reader, dataset, samples), torch.device("cpu"), dataset)
                value = scores[task.score.name]
                if not isinstance(value, float | int) or not math.isfinite(value):
                    raise AssertionError(f"{method}: backbone {name!r} on task {task_name!r}: score {value}")
                out["tasks"][f"{name}/{task_name}"] = value
        if not out["tasks"]:
            raise AssertionError(f"{method}: no registered task consumes any of its backbones")
        return out


def eval_samples(task: Any, reader: Any, dataset: Any, samples: Any) -> Any:
    """What a quick check evaluates on: one sample, or the whole val split for a task whose official evaluator
    scores whole splits only (`Task.evaluates_whole_split`)."""
    if not task.evaluates_whole_split:
        return samples[:1]
    from bench3d.data.nuscenes.tables import split_scene_names

    val = set(split_scene_names(dataset.dataroot, dataset.version, dataset.val_split))
    tokens = [t for seq in reader.sequences() if seq.name in val for t in seq.sample_tokens]
    return task.load(reader, dataset, tokens, train=False, seed=0)
