"""Ablations: a protocol run with each declared component of a method switched off in turn, and optional
study axes — a method-config key set to other values (e.g. GeoMIM's `teacher`), each a variant `key=value`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bench3d.errors import ConfigError
from bench3d.harness.matrix import expand_matrix
from bench3d.harness.runner import Runner
from bench3d.methods import build_method
from bench3d.reports.ablation import FULL
from bench3d.results import RunRecord


def ablation_variants(method: str, preset: str = "tiny") -> dict[str, dict[str, bool]]:
    """'full' plus one variant per component: '-<component>' with it switched off."""
    components = build_method(method, preset).components
    if not components:
        raise ConfigError(f"method {method!r} declares no components to ablate (card field `components`)")
    variants = {FULL: dict(components)}
    for name in components:
        variants[f"-{name}"] = {**components, name: False}
    return variants


def axis_variants(method: str, preset: str, axes: dict[str, Sequence[Any]],
                  base: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """'<key>=<value>' -> the settings of that variant (every component on, on top of `base`), for values other
    than the base config's."""
    adapter = build_method(method, preset, overrides=base or None)
    out = {}
    for key, values in axes.items():
        if key not in type(adapter.config).model_fields:
            raise ConfigError(f"method {method!r} has no setting {key!r}; its settings: "
                              f"{sorted(type(adapter.config).model_fields)}")
        for value in values:
            if value != getattr(adapter.config, key):
                settings = {**(base or {}), key: value}
                build_method(method, preset, overrides=settings)  # a bad value fails before anything runs
                out[f"{key}={value}"] = settings
    return out


def run_ablation(runner: Runner, method: str, protocol: str = "linear_probe", dataset: str = "synth",
                 preset: str = "tiny", seeds: Sequence[int] | None = None,
                 variants: Sequence[str] | None = None,
                 pretrain_seeds: Sequence[int] | None = None,
                 axes: dict[str, Sequence[Any]] | None = None,
                 base_settings: dict[str, Any] | None = None) -> dict[str, list[RunRecord]]:
    """Records per variant (every variant pretrains its own checkpoint; same seeds for all). `base_settings`
    (method-config overrides, e.g. a shorter pretraining for a study) apply to every variant, the full one
    included, so the deltas stay paired."""
    all_variants = ablation_variants(method, preset)
    settings = axis_variants(method, preset, axes or {}, base_settings)
    known = list(all_variants) + list(settings)
    chosen = list(variants) if variants else known
    unknown = sorted(set(chosen) - set(known))
    if unknown:
        raise ConfigError(f"unknown ablation variant(s) {unknown}; known: {sorted(known)}")
    out: dict[str, list[RunRecord]] = {}
    for name in chosen:
        specs = expand_matrix([method], [protocol], dataset, preset, seeds=seeds, pretrain_seeds=pretrain_seeds,
                              components=all_variants.get(name, all_variants[FULL]),
                              settings=settings.get(name, base_settings))
        out[name] = [runner.evaluate(spec) for spec in specs]
    return out
