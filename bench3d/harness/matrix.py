"""The run matrix: method x protocol x fraction x draw x seed (card defaults unless overridden)."""

from __future__ import annotations

from collections.abc import Sequence

from bench3d.cards import load_protocol_card, method_names
from bench3d.errors import UnknownNameError
from bench3d.harness.specs import EvalSpec


def expand_matrix(methods: Sequence[str], protocols: Sequence[str], dataset: str, preset: str = "tiny", *,
                  fractions: Sequence[float] | None = None, draws: Sequence[int] | None = None,
                  seeds: Sequence[int] | None = None, pretrain_seed: int = 0,
                  components: dict[str, bool] | None = None, teacher_checkpoint: str | None = None) -> list[EvalSpec]:
    known = method_names()
    for method in methods:
        if method not in known:
            raise UnknownNameError("method", method, known)
    specs = []
    comps = tuple(sorted((components or {}).items()))
    for protocol in protocols:
        card = load_protocol_card(protocol)
        for method in methods:
            for fraction in fractions or card.fractions:
                for draw in draws if draws is not None else card.draws:
                    for seed in seeds if seeds is not None else card.seeds:
                        specs.append(EvalSpec(method, protocol, dataset, float(fraction), int(draw), int(seed),
                                              preset, pretrain_seed, comps, teacher_checkpoint))
    return specs
