"""Records of the nuScenes tables that do not depend on what happens in a scene, and linking helpers."""

from __future__ import annotations

from bench3d.labels.nuscenes import FINE_CLASSES
from bench3d.synth import rig
from bench3d.synth.ids import token

FIXED = "nuscenes"  # token namespace of seed-independent records (categories, attributes, sensors)
ATTRIBUTES = (
    "vehicle.moving", "vehicle.stopped", "vehicle.parked", "cycle.with_rider", "cycle.without_rider",
    "pedestrian.sitting_lying_down", "pedestrian.standing", "pedestrian.moving",
)
VISIBILITY = (("1", "v0-40"), ("2", "v40-60"), ("3", "v60-80"), ("4", "v80-100"))


def category_token(name: str) -> str:
    return token(FIXED, "category", name)


def attribute_token(name: str) -> str:
    return token(FIXED, "attribute", name)


def sensor_token(channel: str) -> str:
    return token(FIXED, "sensor", channel)


def category_table() -> list[dict]:
    """All 32 lidarseg categories with their `index` (the fine label id)."""
    return [{"token": category_token(n), "name": n, "description": f"Synthetic {n}.", "index": i}
            for i, n in enumerate(FINE_CLASSES)]


def attribute_table() -> list[dict]:
    return [{"token": attribute_token(n), "name": n, "description": f"Synthetic {n}."} for n in ATTRIBUTES]


def visibility_table() -> list[dict]:
    return [{"token": t, "level": lvl,
             "description": f"visibility of whole object is between {lvl[1:].replace('-', ' and ')}%"}
            for t, lvl in VISIBILITY]


def visibility_token(fraction: float) -> str:
    """nuScenes visibility level of the visible fraction of an object over all six cameras."""
    return "1" if fraction <= 0.4 else "2" if fraction <= 0.6 else "3" if fraction <= 0.8 else "4"


def sensor_table() -> list[dict]:
    return [{"token": sensor_token(ch), "channel": ch, "modality": rig.modality(ch)} for ch in rig.ALL_CHANNELS]


def map_record(map_token: str, log_tokens: list[str]) -> dict:
    return {"token": map_token, "log_tokens": sorted(log_tokens), "category": "semantic_prior",
            "filename": f"maps/{map_token}.png"}


def link(records: list[dict]) -> list[dict]:
    """Fill `prev` / `next` of records that are already in time order."""
    for i, r in enumerate(records):
        r["prev"] = records[i - 1]["token"] if i > 0 else ""
        r["next"] = records[i + 1]["token"] if i + 1 < len(records) else ""
    return records


def rounded(values, ndigits: int = 6) -> list[float]:
    return [round(float(v), ndigits) for v in values]
