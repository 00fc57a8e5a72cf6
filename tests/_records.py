"""Run records for tests of the store and the reports."""

from __future__ import annotations

from bench3d.results import RunRecord
from bench3d.results.provenance import collect, now_iso


def make_record(run_id: str, method: str = "scalr", seed: int = 0, miou: float = 0.5,
                resolved_method: dict | None = None) -> RunRecord:
    """`resolved_method`: the adapter's resolved config (what a real run records under `method`)."""
    resolved = {"method": resolved_method or method, "seed": seed}
    return RunRecord(
        run_id=run_id, kind="evaluation", method=method, checkpoint="abc", protocol="linear_probe",
        protocol_version="1.0", dataset="synth", task="lidar_semseg", fraction=1.0, draw=0, seed=seed,
        preset="tiny", metrics={"reducer": "nuscenes", "miou": miou, "accuracy": 0.9,
                                "iou_per_class": {"car": 0.25, "bus": None}},
        provenance=collect(resolved_config=resolved, device="cpu", wall_time_s=1.0, started_at=now_iso()),
    )
