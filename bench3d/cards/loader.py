"""Finding and validating cards.

Search order: `$BENCH3D_CARDS/<kind>/` (a user's own or edited cards), the checkout's top-level
`methods/` and `protocols/`, then the copies packaged in the wheel. The first card of a name wins.
"""

from __future__ import annotations

import os
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from bench3d.cards.schema import MethodCard, ProtocolCard
from bench3d.errors import ConfigError, UnknownNameError

CardT = TypeVar("CardT", bound=BaseModel)


def _card_dirs(kind: str) -> list[Path]:
    dirs = []
    user = os.environ.get("BENCH3D_CARDS")
    if user and (Path(user) / kind).is_dir():
        dirs.append(Path(user) / kind)
    checkout = Path(__file__).resolve().parents[2] / kind  # editable install / source checkout
    if checkout.is_dir():
        dirs.append(checkout)
    packaged = resources.files("bench3d") / "_cards" / kind  # wheel install
    if packaged.is_dir():
        dirs.append(Path(str(packaged)))
    return dirs


def _card_paths(kind: str) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for d in _card_dirs(kind):
        for path in sorted(d.glob("*.yaml")):
            found.setdefault(path.stem, path)
    return found


def parse_card(path: Path, model: type[CardT]) -> CardT:
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    try:
        card = model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"field `{'.'.join(str(p) for p in err['loc'])}`: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"{path}: invalid {model.__name__}: {problems} (fix the card; see DESIGN.md, Contracts)") from exc
    card._source = path
    if getattr(card, "name", path.stem) != path.stem:
        raise ConfigError(f"{path}: field `name` is {card.name!r} but the file is named {path.stem!r}; make them equal")
    return card


def schema_error(where: str, exc: ValidationError, schema: type[BaseModel]) -> ConfigError:
    """One-line error for typed settings: names the place, each bad key and the keys the schema knows."""
    problems = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"]]
        if err["type"] == "extra_forbidden":
            problems.append(f"unknown key `{'.'.join(loc)}` (known keys: {', '.join(_known_keys(schema, loc[:-1]))})")
        else:
            problems.append(f"key `{'.'.join(loc)}`: {err['msg']}")
    return ConfigError(f"{where}: " + "; ".join(problems))


def _known_keys(schema: type[BaseModel], path: list[str]) -> list[str]:
    """Field names of the (nested) model at `path` inside `schema`."""
    model: Any = schema
    for part in path:
        field = model.model_fields.get(part) if isinstance(model, type) and issubclass(model, BaseModel) else None
        if field is None:
            return []
        model = field.annotation
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            args = [a for a in getattr(model, "__args__", ()) if isinstance(a, type) and issubclass(a, BaseModel)]
            model = args[0] if args else None
    return sorted(model.model_fields) if isinstance(model, type) and issubclass(model, BaseModel) else []


def clear_card_cache() -> None:
    """Forget parsed cards (after editing them or changing BENCH3D_CARDS in-process)."""
    load_method_card.cache_clear()
    load_protocol_card.cache_clear()


def method_names() -> list[str]:
    return sorted(_card_paths("methods"))


def protocol_names() -> list[str]:
    return sorted(_card_paths("protocols"))


@lru_cache(maxsize=None)
def load_method_card(name: str) -> MethodCard:
    paths = _card_paths("methods")
    if name not in paths:
        raise UnknownNameError("method", name, list(paths))
    return parse_card(paths[name], MethodCard)


@lru_cache(maxsize=None)
def load_protocol_card(name: str) -> ProtocolCard:
    paths = _card_paths("protocols")
    if name not in paths:
        raise UnknownNameError("protocol", name, list(paths))
    return parse_card(paths[name], ProtocolCard)
