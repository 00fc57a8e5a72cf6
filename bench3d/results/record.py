"""The run record schema (lm-eval / MTEB style: results plus full provenance, versioned)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

RECORD_SCHEMA_VERSION = "1.0"


class Provenance(BaseModel):
    model_config = ConfigDict(extra="forbid")

    suite_version: str
    git_sha: str | None
    resolved_config: dict[str, Any]
    config_hash: str
    split_hash: str | None = None
    checkpoint_sha256: str | None = None
    dataset_version: str | None = None
    packages: dict[str, str]
    device: str
    wall_time_s: float
    peak_memory_mb: float
    started_at: str
    finished_at: str
    python: str
    platform: str


class RunRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_version: str = RECORD_SCHEMA_VERSION
    run_id: str
    kind: Literal["pretrain", "evaluation", "efficiency"]
    method: str
    checkpoint: str | None  # run id of the pretraining, or None for methods without one
    protocol: str | None = None
    protocol_version: str | None = None
    dataset: str
    task: str
    fraction: float | None = None
    draw: int | None = None
    seed: int
    preset: str
    metrics: dict[str, Any]
    provenance: Provenance
