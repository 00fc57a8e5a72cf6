"""The efficiency protocol as runs: one record per (method, frames, memory bank) setting."""

from __future__ import annotations

import time

from bench3d.errors import ConfigError
from bench3d.harness.bev_teachers import build_bev_teacher, teacher_reference
from bench3d.harness.runner import Runner
from bench3d.harness.specs import run_id_of
from bench3d.harness.step_cost import measure_pretraining_step
from bench3d.methods import PretrainContext, build_method
from bench3d.results import RunRecord
from bench3d.results.provenance import collect, device_name, now_iso

PROTOCOL = "efficiency"
PROTOCOL_VERSION = "1.0"


def compared_component(method: str, preset: str, component: str | None) -> str | None:
    """The component switched on and off: `component`, else the adapter's cache component (or None)."""
    adapter = build_method(method, preset)
    if component is not None and component not in adapter.components:
        raise ConfigError(f"method {method!r} has no component {component!r}; declared: {sorted(adapter.components)}")
    return component or adapter.cache_component


def efficiency_settings(method: str, frames: list[int], compare_cache: bool, preset: str,
                        component: str | None = None) -> list[tuple[int, bool | None]]:
    """(frames, compared component on/off or None) per setting, from the adapter's declared knobs."""
    adapter = build_method(method, preset)
    if adapter.frames_knob is None and any(f != 1 for f in frames):
        raise ConfigError(f"method {method!r} is single-frame (its adapter declares no frames knob); use --frames 1")
    compared = compared_component(method, preset, component)
    states: list[bool | None] = [True, False] if compare_cache and compared else [None]
    return [(f, state) for f in frames for state in states]


def run_efficiency(runner: Runner, method: str, frames: list[int], dataset: str = "synth", preset: str = "tiny",
                   steps: int = 10, warmup: int = 3, compare_bank: bool = True, seed: int = 0,
                   component: str | None = None) -> list[RunRecord]:
    """Step time and peak memory per setting; with a compared component (`component`, else the adapter's cache
    component) each setting runs with it on and off, side by side in one run."""
    ds = runner.dataset(dataset)
    tokens = runner.split_tokens(ds, ds.train_split)
    records = []
    knobs = build_method(method, preset)
    compared = compared_component(method, preset, component)
    for n_frames, cache_on in efficiency_settings(method, frames, compare_bank, preset, component):
        components = {} if cache_on is None else {compared: cache_on}
        overrides = {knobs.frames_knob: n_frames} if knobs.frames_knob else {}
        adapter = build_method(method, preset, components=components, overrides=overrides,
                               synthetic_data=ds.synthetic)
        resolved = {"kind": "efficiency", "protocol": {"name": PROTOCOL, "version": PROTOCOL_VERSION},
                    "method": adapter.resolved_config(), "dataset": ds.as_config(), "steps": steps,
                    "warmup": warmup, "seed": seed, "device": device_name(runner.device),
                    "numerics": runner.numerics()}
        run_id = run_id_of(resolved)
        if runner.store.has(run_id):
            records.append(runner.store.read(run_id))
            continue
        started, t0 = now_iso(), time.perf_counter()
        ctx = PretrainContext(reader=runner.reader(ds), sample_tokens=tokens, device=runner.device, seed=seed)
        request = adapter.bev_teacher_request()
        if request is not None:  # the same trained teacher as pretraining (made first if needed)
            reference = teacher_reference(runner, request, dataset, preset, create=True)
            assert reference is not None
            ctx.bev_teacher = build_bev_teacher(runner, request, reference, dataset, preset)
        metrics = measure_pretraining_step(adapter, ctx, steps, warmup)
        metrics.update(frames=n_frames, cache_component=compared,
                       cache_on=None if cache_on is None else adapter.components[compared])
        record = RunRecord(
            run_id=run_id, kind="efficiency", method=method, checkpoint=None, protocol=PROTOCOL,
            protocol_version=PROTOCOL_VERSION, dataset=ds.name, task="pretraining_cost", seed=seed, preset=preset,
            metrics=metrics,
            provenance=collect(resolved_config=resolved, device=runner.device, wall_time_s=time.perf_counter() - t0,
                               started_at=started, dataset_version=ds.version),
        )
        runner.store.write(record)
        records.append(record)
    return records
