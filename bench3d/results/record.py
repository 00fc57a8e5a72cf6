"""The run record schema (lm-eval / MTEB style: results plus full provenance, versioned)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

RECORD_SCHEMA_VERSION = "1.2"  # 1.1: pretrain_seed and score; 1.2: provenance.parallel


class ScoreSpec(BaseModel):
    """A task's main score: the metric key, how tables label it, its direction and whether it is a fraction
    printed as a percentage."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    label: str
    higher_is_better: bool
    percent: bool = False


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
    cpu: str | None = None  # CPU model (numbers can drift between machines; see `bench3d results --compare`)
    resumes: int = 0  # how often the run was resumed after a kill; wall_time_s sums every segment
    # Data parallelism: world_size, backend (gloo, nccl; None: one process), grad_accum, sync_bn.
    parallel: dict[str, Any] = {"world_size": 1, "backend": None, "grad_accum": 1, "sync_bn": False}


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
    pretrain_seed: int | None = None  # the pretraining seed; for a baseline without pretraining, its init seed
    preset: str
    score: ScoreSpec | None = None  # the task's main score (evaluation records)
    metrics: dict[str, Any]
    provenance: Provenance
