"""The run matrix: method x protocol x pretraining seed x fraction x draw x seed (card defaults unless
overridden). A (method, protocol) pair whose backbones the protocol's task cannot consume is refused here,
before anything runs."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from bench3d.cards import method_names
from bench3d.errors import ConfigError, UnknownNameError
from bench3d.harness.specs import EvalSpec
from bench3d.methods import MethodAdapter, build_method
from bench3d.protocols import ResolvedProtocol, resolve_protocol

log = logging.getLogger(__name__)


def backbone_for_task(adapter: MethodAdapter, protocol: ResolvedProtocol) -> str:
    """The name of the method's backbone the protocol's task builds on; a clear error if there is none."""
    task = protocol.task
    try:
        return adapter.backbone_for(task.consumes)
    except ConfigError as exc:
        raise ConfigError(f"method {adapter.name!r} cannot run protocol {protocol.card.name!r}: task {task.name!r} "
                          f"consumes {sorted(task.consumes)} backbones ({exc})") from None


def expand_matrix(methods: Sequence[str], protocols: Sequence[str], dataset: str, preset: str = "tiny", *,
                  fractions: Sequence[float] | None = None, draws: Sequence[int] | None = None,
                  seeds: Sequence[int] | None = None, pretrain_seeds: Sequence[int] | None = None,
                  components: dict[str, bool] | None = None, teacher_checkpoint: str | None = None,
                  checkpoint: str | None = None, unrecorded_checkpoint: bool = False,
                  settings: dict[str, Any] | None = None, pretrained_on: str | None = None) -> list[EvalSpec]:
    known = method_names()
    for method in methods:
        if method not in known:
            raise UnknownNameError("method", method, known)
    if checkpoint is not None and len(methods) != 1:
        raise ConfigError(f"--checkpoint names one method's checkpoint; got methods {list(methods)}")
    specs = []
    comps = tuple(sorted((components or {}).items()))
    sets = tuple(sorted((settings or {}).items()))
    for protocol in protocols:
        resolved = resolve_protocol(protocol, preset)
        card = resolved.card
        for method in methods:
            # Building the adapter validates components and settings against the card before anything runs.
            adapter = build_method(method, preset, components=components or None, overrides=settings or None)
            backbone_for_task(adapter, resolved)
            method_seeds = list(pretrain_seeds or card.pretrain_seeds)
            if not adapter.pretrain_seed_matters and len(method_seeds) > 1:
                # Fixed weights: other pretraining seeds would be copies of the first run, counted as spread.
                log.info("%s: fixed weights, so one pretraining seed (%d) of %s", method, method_seeds[0], method_seeds)
                method_seeds = method_seeds[:1]
            for pretrain_seed in method_seeds:
                for fraction in fractions or card.fractions:
                    for draw in draws if draws is not None else card.draws:
                        for seed in seeds if seeds is not None else card.seeds:
                            specs.append(EvalSpec(method, protocol, dataset, float(fraction), int(draw), int(seed),
                                                  preset, int(pretrain_seed), comps, teacher_checkpoint,
                                                  checkpoint, unrecorded_checkpoint, sets,
                                                  pretrained_on if pretrained_on != dataset else None))
    return specs
