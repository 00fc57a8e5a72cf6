"""CI-sized copies of the shipped cards: same fields, shorter schedules, used through BENCH3D_CARDS."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from bench3d.cards.loader import clear_card_cache

REPO = Path(__file__).resolve().parents[1]


def write_cards(root: Path, methods: dict[str, Any], protocols: dict[str, dict[str, Any]]) -> Path:
    """Copy every card, updating the `tiny` preset: `methods` for all method cards (only keys a card already
    has, so every card stays valid for its adapter's schema), `protocols[name]` per protocol card."""
    for kind in ("methods", "protocols"):
        (root / kind).mkdir(parents=True, exist_ok=True)
        for path in (REPO / kind).glob("*.yaml"):
            card = yaml.safe_load(path.read_text())
            tiny = card["presets"]["tiny"]
            if kind == "methods":
                tiny.update({k: v for k, v in methods.items() if k in tiny})
            else:
                tiny.update(protocols.get(card["name"], {}))
            (root / kind / path.name).write_text(yaml.safe_dump(card))
    return root


@contextmanager
def using_cards(root: Path) -> Iterator[Path]:
    old = os.environ.get("BENCH3D_CARDS")
    os.environ["BENCH3D_CARDS"] = str(root)
    clear_card_cache()
    try:
        yield root
    finally:
        if old is None:
            os.environ.pop("BENCH3D_CARDS", None)
        else:
            os.environ["BENCH3D_CARDS"] = old
        clear_card_cache()
