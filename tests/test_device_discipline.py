"""Device discipline without a GPU: two pretraining steps of every method that pretrains (random init has
none; its backbone runs in the task test) and one training step plus an evaluation of every task, on a
stand-in second device (tests/_fake_device.py). Any host tensor that meets a device tensor inside a step
fails, as it would on CUDA. Before the fix this caught SLidR (`superpixel_pairs`: host superpixel ids added
to a device arange) and LiMA (`propagate`: host weights times device features)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from _fake_device import FAKE_DEVICE, DeviceMixError, fake_device
from bench3d.cards import method_names
from bench3d.datasets import resolve_dataset
from bench3d.harness.bev_teachers import attach_mock_teacher
from bench3d.harness.mock import MOCK_OVERRIDES, eval_samples
from bench3d.methods import PretrainContext, build_method
from bench3d.tasks import registered_tasks


def test_the_check_catches_a_host_tensor_meeting_a_device_tensor() -> None:
    with fake_device():
        dev = torch.ones(4, device=FAKE_DEVICE)
        host = torch.ones(4)
        assert dev.device == FAKE_DEVICE and host.device.type == "cpu"
        with pytest.raises(DeviceMixError, match="meets 1 host tensor"):
            _ = dev + host
        with pytest.raises(DeviceMixError):
            torch.zeros(4, device=FAKE_DEVICE).index_add_(0, torch.tensor([0, 1]), torch.ones(2, device=FAKE_DEVICE))
        with pytest.raises(DeviceMixError, match="numpy"):
            dev.numpy()
        _ = dev[torch.tensor([0, 2])] + dev[:2] * torch.tensor(2.0)  # host index and host scalar are fine
        moved = host.to(FAKE_DEVICE)
        assert moved.device == FAKE_DEVICE and host.device.type == "cpu"
        assert (moved.cpu() + host).sum() == 8


PRETRAINED = [m for m in method_names() if build_method(m).needs_pretraining]
VARIANTS = [(m, {}) for m in PRETRAINED] + [("lima", {"cross_view_aggregation": False}),
                                             ("lima", {"memory_bank": False, "cross_sequence_memory": False})]


@pytest.mark.parametrize(("method", "components"), VARIANTS, ids=[f"{m}{'-' + '-'.join(c) if c else ''}"
                                                                  for m, c in VARIANTS])
def test_one_pretraining_step_on_a_second_device(method: str, components: dict[str, bool], tiny_release: Path) -> None:
    dataset = resolve_dataset("synth", tiny_release)
    reader = dataset.open_reader()
    tokens = [t for seq in reader.sequences() for t in seq.sample_tokens]
    schema = build_method(method).config_schema
    adapter = build_method(method, components=components,
                           overrides={k: v for k, v in MOCK_OVERRIDES.items() if k in schema.model_fields},
                           synthetic_data=True)
    ctx = PretrainContext(reader=reader, sample_tokens=tokens, device=FAKE_DEVICE, seed=0)
    batch_tokens = adapter.batch_order(ctx, 0)[1]  # the second batch: LiMA has history by then
    with fake_device():
        attach_mock_teacher(adapter, ctx)  # GeoMIM's LiDAR BEV teacher, on the device too
        backbones, heads, model, optimizer = adapter.build_training(ctx)
        adapter.on_epoch_start(ctx, 0)
        gen = torch.Generator().manual_seed(0)
        for tokens_ in (adapter.batch_order(ctx, 0)[0], batch_tokens):
            losses = adapter.loss(backbones, heads, [adapter.prepare(ctx, t) for t in tokens_], ctx, gen)
            optimizer.zero_grad(set_to_none=True)
            sum(losses.values()).backward()
            optimizer.step()
    assert all(torch.isfinite(v) for v in losses.values())


BASELINES = {"lidar": ("random", "lidar"), "camera": ("random_camera", "camera")}
TASK_CASES = [(t, m) for t, cls in sorted(registered_tasks().items()) for m in sorted(cls.consumes)]


@pytest.mark.parametrize(("task_name", "modality"), TASK_CASES, ids=[f"{t}-{m}" for t, m in TASK_CASES])
def test_one_task_step_on_a_second_device(task_name: str, modality: str, tiny_release: Path) -> None:
    dataset = resolve_dataset("synth", tiny_release)
    reader = dataset.open_reader()
    tokens = [t for seq in reader.sequences() for t in seq.sample_tokens][:2]
    task_cls = registered_tasks()[task_name]
    task = task_cls(task_cls.Args())
    method, backbone_name = BASELINES[modality]
    with fake_device():
        backbone = build_method(method).load_backbone(backbone_name, None)
        model = task.build_model(backbone, dataset).to(FAKE_DEVICE)
        samples = task.load(reader, dataset, tokens, train=True, seed=0)
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
        rng = np.random.default_rng(0) if task.augments else None
        losses = task.loss(model, task.head_inputs(model, samples, FAKE_DEVICE, rng))
        sum(losses.values()).backward()
        optimizer.step()
        scores = task.evaluate(model, eval_samples(task, reader, dataset, samples), FAKE_DEVICE, dataset)
    assert np.isfinite(scores[task.score.name])


def test_the_gpu_check_runs_on_cpu(tiny_release: Path) -> None:
    """`bench3d bench device` (scripts/gpu_check.sh) is what a CUDA machine runs; here it must work on the CPU."""
    from bench3d.harness.device_check import device_check

    rows = device_check("cpu", tiny_release, amps=("off", "fp16"), steps=1)
    cases = {r["case"] for r in rows if r["amp"] == "off"}
    tasks = {f"task/{t}/{m}" for t, cls in registered_tasks().items() for m in cls.consumes}  # incl. test examples
    assert cases == {f"pretrain/{m}" for m in PRETRAINED} | tasks
    assert all(r["status"] == "ok" and r["step_time_median_s"] > 0 and r["peak_rss_mb"] > 0
               for r in rows if r["amp"] == "off"), rows
    assert [r["status"] for r in rows if r["amp"] == "fp16"] == ["skipped"]  # fp16 has no CPU grad scaler
