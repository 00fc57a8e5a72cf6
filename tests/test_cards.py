"""Cards: every shipped card validates; bad cards and unknown names fail with actionable errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench3d.cards import load_method_card, load_protocol_card, method_names, protocol_names
from bench3d.cards.loader import parse_card
from bench3d.cards.schema import MethodCard, ProtocolCard
from bench3d.errors import ConfigError, UnknownNameError


def test_shipped_cards_validate() -> None:
    assert {"random", "scalr"} <= set(method_names())
    assert {"linear_probe", "finetune", "full_finetune"} <= set(protocol_names())
    for name in method_names():
        assert load_method_card(name).preset("tiny")
    for name in protocol_names():
        card = load_protocol_card(name)
        assert card.schedule("tiny").epochs > 0 and card.schedule("paper").epochs > 0


def test_linear_probe_is_slidr_definition() -> None:
    card = load_protocol_card("linear_probe")
    assert (card.freeze, card.bn_eval, card.fractions, card.checkpoint_rule) == ("all_but_head", True, [1.0], "last_epoch")
    finetune = load_protocol_card("finetune")
    assert finetune.fractions == [0.01, 0.05, 0.1, 0.25]


def test_unknown_names_list_known_ones() -> None:
    with pytest.raises(UnknownNameError, match="known methods: .*scalr"):
        load_method_card("scalrr")
    with pytest.raises(UnknownNameError, match="known protocols: .*linear_probe"):
        load_protocol_card("lp")
    with pytest.raises(UnknownNameError, match="known presets: paper, tiny"):
        load_protocol_card("linear_probe").schedule("huge")


def test_bad_card_names_file_and_field(tmp_path: Path) -> None:
    text = (Path(__file__).parents[1] / "protocols" / "linear_probe.yaml").read_text()
    bad = tmp_path / "linear_probe.yaml"
    bad.write_text(text.replace("freeze: all_but_head", "freeze: everything"))
    with pytest.raises(ConfigError, match=r"linear_probe.yaml.*field `freeze`"):
        parse_card(bad, ProtocolCard)
    typo = tmp_path / "linear_probe.yaml"
    typo.write_text(text + "epochz: 3\n")
    with pytest.raises(ConfigError, match="epochz"):
        parse_card(typo, ProtocolCard)
    renamed = tmp_path / "other.yaml"
    renamed.write_text(text)
    with pytest.raises(ConfigError, match="make them equal"):
        parse_card(renamed, ProtocolCard)


def test_method_card_needs_tiny_preset(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("name: m\ntitle: t\nmodality: lidar\npretrains: none\ndescription: d\npresets: {paper: {}}\n")
    with pytest.raises(ConfigError, match="tiny"):
        parse_card(path, MethodCard)
