"""Deterministic tokens and timestamps: the same (seed, kind, index) always gives the same 32-hex token."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone

EPOCH_S = 1767225600  # 2026-01-01T00:00:00Z, the synthetic fleet's first day
LOG_LEAD_S = 20  # a log starts this long before its scene's first keyframe


def token(seed: int | str, *parts: object) -> str:
    key = "/".join(["bench3d-synth", str(seed), *map(str, parts)])
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def scene_start_us(seed: int, scene_index: int) -> int:
    """Timestamp (µs) of a scene's first keyframe: one scene per hour, shifted by the seed."""
    shift = int(token(seed, "time")[:6], 16) % 1800
    return (EPOCH_S + 3600 * scene_index + shift + LOG_LEAD_S) * 1_000_000


def logfile_name(vehicle: int, start_us: int) -> str:
    """nuScenes-style log name, e.g. n008-2026-01-01-00-12-34+0000 (the log starts LOG_LEAD_S earlier)."""
    t = datetime.fromtimestamp(start_us // 1_000_000 - LOG_LEAD_S, tz=timezone.utc)
    return f"n{vehicle:03d}-{t:%Y-%m-%d-%H-%M-%S}+0000"


def date_of(start_us: int) -> str:
    return datetime.fromtimestamp(start_us // 1_000_000, tz=timezone.utc).strftime("%Y-%m-%d")
