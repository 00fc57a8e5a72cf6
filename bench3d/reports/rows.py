"""What a table row is: a method *as it ran*. Two runs of one method share a row only if they used the same
2D teacher, components and settings; otherwise each gets its own row, labelled with what differs from the
card's preset, e.g. `slidr (efficientnet_lite0)` or `mim4d (appearance; no masking; epochs=4)`."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from bench3d.results.record import RunRecord


def _flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


@cache
def _preset_defaults(method: str, preset: str) -> dict[str, Any]:
    from bench3d.methods import build_method

    try:
        # Through JSON, as the record went: tuples become lists and compare equal to the record's values.
        return _flatten(json.loads(json.dumps(build_method(method, preset).config.model_dump())))
    except Exception:  # noqa: BLE001  (a card renamed or removed since the run: show no differences)
        return {}


def _value(v: Any) -> str:
    return "x".join(map(str, v)) if isinstance(v, list) else str(v)


def row_parts(record: RunRecord) -> tuple[list[str], list[str], list[str]]:
    """What sets the run apart besides its method: its 2D teacher (none or one), the settings that differ from
    the card's preset, and its switched-off components."""
    resolved = record.provenance.resolved_config.get("method")
    if not isinstance(resolved, dict) or "config" not in resolved:
        return [], [], []
    config = _flatten(resolved["config"])
    teacher = []
    # An `auto` teacher left unresolved means the method never built one (its adapter uses no teacher).
    if config.get("teacher.name", "auto") != "auto":
        checkpoint = resolved.get("teacher_checkpoint")
        teacher.append(config["teacher.name"] + (f" {Path(checkpoint).name}" if checkpoint else ""))
    defaults = _preset_defaults(record.method, resolved.get("preset", record.preset))
    settings = [f"{k}={_value(v)}" for k, v in sorted(config.items())
                if k != "teacher.name" and k in defaults and defaults[k] != v]
    off = [name for name, on in sorted((resolved.get("components") or {}).items()) if not on]
    return teacher, settings, off


def row_label(record: RunRecord) -> str:
    """The record's row: its method, then its teacher, switched-off components and changed settings."""
    teacher, settings, off = row_parts(record)
    parts = teacher + [f"no {name}" for name in off] + settings
    return f"{record.method} ({'; '.join(parts)})" if parts else record.method
