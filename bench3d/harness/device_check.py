"""The check to run whenever a CUDA machine is at hand (CI has none): a few pretraining steps of every
method that pretrains and a training step plus an evaluation of every task, on `device`, for each mixed
precision mode — step time and peak memory per case, an error recorded as a data point, never hidden.
`bench3d bench device --device cuda` runs it; `scripts/gpu_check.sh` adds a `torchrun --nproc_per_node 1`
run. On CPU it runs too (fp16 is refused there, as `--amp fp16` is), which is how CI keeps it working.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from bench3d.cards import method_names
from bench3d.datasets import resolve_dataset
from bench3d.engine.device import resolve_device
from bench3d.engine.numerics import autocast, configure_numerics, grad_scaler
from bench3d.engine.timing import time_steps
from bench3d.harness.bev_teachers import attach_mock_teacher
from bench3d.harness.mock import MOCK_OVERRIDES, eval_samples
from bench3d.harness.step_cost import measure_pretraining_step
from bench3d.methods import PretrainContext, build_method
from bench3d.tasks import registered_tasks

log = logging.getLogger(__name__)


def _method_case(method: str, dataset: Any, device: torch.device, steps: int) -> dict[str, Any]:
    reader = dataset.open_reader()
    tokens = [t for seq in reader.sequences() for t in seq.sample_tokens]
    schema = build_method(method).config_schema
    adapter = build_method(method, overrides={**{k: v for k, v in MOCK_OVERRIDES.items() if k in schema.model_fields},
                                              "batch_size": 1}, synthetic_data=dataset.synthetic)
    ctx = PretrainContext(reader=reader, sample_tokens=tokens, device=device, seed=0)
    attach_mock_teacher(adapter, ctx)  # a step's mechanics, not its numbers: an untrained BEV teacher will do
    return measure_pretraining_step(adapter, ctx, steps=steps, warmup=1)


BASELINES = {"lidar": ("random", "lidar"), "camera": ("random_camera", "camera")}  # a backbone per modality


def _task_case(task_name: str, modality: str, dataset: Any, device: torch.device) -> dict[str, Any]:
    reader = dataset.open_reader()
    tokens = [t for seq in reader.sequences() for t in seq.sample_tokens][:2]
    task_cls = registered_tasks()[task_name]
    task = task_cls(task_cls.Args())
    method, name = BASELINES[modality]
    model = task.build_model(build_method(method).load_backbone(name, None), dataset).to(device)
    samples = task.load(reader, dataset, tokens, train=True, seed=0)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    scaler = grad_scaler(device)

    def step(_: int) -> None:
        with autocast(device):
            rng = np.random.default_rng(0) if task.augments else None
            losses = task.loss(model, task.head_inputs(model, samples, device, rng))
        optimizer.zero_grad(set_to_none=True)
        total = sum(losses.values())
        if scaler is None:
            total.backward()
            optimizer.step()
        else:
            scaler.scale(total).backward()
            scaler.step(optimizer)
            scaler.update()

    out = time_steps(step, 3, 1, device)
    scores = task.evaluate(model, eval_samples(task, reader, dataset, samples), device, dataset)
    return {"status": "ok", **out, "score": float(scores[task.score.name])}


def device_check(device: str, dataroot: str | Path | None = None, amps: Sequence[str] = ("off", "bf16", "fp16"),
                 steps: int = 2) -> list[dict[str, Any]]:
    """One row per (amp, method or task): status, median step time, peak memory (or the error)."""
    dev = resolve_device(device)
    dataset = resolve_dataset("synth", dataroot)
    rows = []
    pretraining = [m for m in method_names() if build_method(m).needs_pretraining]
    for amp in amps:
        if amp == "fp16" and dev.type != "cuda":
            rows.append({"amp": amp, "case": "*", "status": "skipped", "error": "fp16 needs CUDA (grad scaler)"})
            continue
        configure_numerics(dev, amp)  # type: ignore[arg-type]
        cases = [(f"pretrain/{m}", lambda m=m: _method_case(m, dataset, dev, steps)) for m in pretraining]
        cases += [(f"task/{t}/{m}", lambda t=t, m=m: _task_case(t, m, dataset, dev))
                  for t, cls in sorted(registered_tasks().items()) for m in sorted(cls.consumes)]
        for name, run in cases:
            try:
                out = run()
            except Exception as exc:  # noqa: BLE001 — a failing case is the finding, reported with its trace
                log.error("%s (amp %s) failed: %s", name, amp, exc)
                out = {"status": "error", "error": f"{type(exc).__name__}: {exc}",
                       "trace": traceback.format_exc(limit=6)}
            rows.append({"amp": amp, "case": name, **{k: v for k, v in out.items() if k != "step_times_s"}})
    configure_numerics(dev, "off")
    return rows
