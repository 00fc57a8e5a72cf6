"""Ablations: a protocol run with each declared component of a method switched off in turn."""

from __future__ import annotations

from collections.abc import Sequence

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


def run_ablation(runner: Runner, method: str, protocol: str = "linear_probe", dataset: str = "synth",
                 preset: str = "tiny", seeds: Sequence[int] | None = None,
                 variants: Sequence[str] | None = None,
                 pretrain_seeds: Sequence[int] | None = None) -> dict[str, list[RunRecord]]:
    """Records per variant (every variant pretrains its own checkpoint; same seeds for all)."""
    all_variants = ablation_variants(method, preset)
    chosen = list(variants) if variants else list(all_variants)
    unknown = sorted(set(chosen) - set(all_variants))
    if unknown:
        raise ConfigError(f"unknown ablation variant(s) {unknown}; known: {sorted(all_variants)}")
    out: dict[str, list[RunRecord]] = {}
    for name in chosen:
        specs = expand_matrix([method], [protocol], dataset, preset, seeds=seeds, pretrain_seeds=pretrain_seeds,
                              components=all_variants[name])
        out[name] = [runner.evaluate(spec) for spec in specs]
    return out
