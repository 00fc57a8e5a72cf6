"""Results store: a folder of run records, one `<run_id>.json` each.

Writes go to a temporary file in the same folder, then `os.link` publishes it under its final name:
the link fails if the name exists, so a finished record is never overwritten, and readers never see a
half-written file. Concurrent writers of distinct runs need no lock.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path

import pandas as pd

from bench3d.errors import Bench3DError, DataError
from bench3d.paths import results_dir
from bench3d.results.record import RunRecord

log = logging.getLogger(__name__)


class RecordExistsError(Bench3DError):
    pass


class ResultsStore:
    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root is not None else results_dir()

    def path_of(self, run_id: str) -> Path:
        return self.root / f"{run_id}.json"

    def has(self, run_id: str) -> bool:
        return self.path_of(run_id).is_file()

    def write(self, record: RunRecord) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        final = self.path_of(record.run_id)
        fd, tmp = tempfile.mkstemp(prefix=f".{record.run_id}.", suffix=".tmp", dir=self.root)
        try:
            with os.fdopen(fd, "w") as f:
                f.write(record.model_dump_json(indent=1))
                f.flush()
                os.fsync(f.fileno())
            try:
                os.link(tmp, final)
            except FileExistsError:
                raise RecordExistsError(f"{final} already exists; a finished run is never overwritten "
                                        "(delete the file by hand to rerun it)") from None
        finally:
            os.unlink(tmp)
        log.info("wrote run record %s", final)
        return final

    def read(self, run_id: str) -> RunRecord:
        return self._read_path(self.path_of(run_id))

    @staticmethod
    def _read_path(path: Path) -> RunRecord:
        try:
            return RunRecord.model_validate(json.loads(path.read_text()))
        except (json.JSONDecodeError, ValueError) as exc:
            raise DataError(path, f"is not a valid run record: {exc}") from exc

    def records(self) -> list[RunRecord]:
        if not self.root.is_dir():
            return []
        return [self._read_path(p) for p in sorted(self.root.glob("*.json"))]


def records_to_frame(records: list[RunRecord]) -> pd.DataFrame:
    """Long table: one row per (run, metric); per-class IoUs appear as metric `iou/<class>`."""
    rows = []
    for r in records:
        base = {
            "run_id": r.run_id, "kind": r.kind, "method": r.method, "checkpoint": r.checkpoint,
            "protocol": r.protocol, "protocol_version": r.protocol_version, "dataset": r.dataset,
            "task": r.task, "fraction": r.fraction, "draw": r.draw, "seed": r.seed, "pretrain_seed": r.pretrain_seed,
            "preset": r.preset, "reducer": r.metrics.get("reducer"),
            "score": r.score.name if r.score else None,
            "higher_is_better": r.score.higher_is_better if r.score else None,
        }
        for name, value in r.metrics.items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                continue
            rows.append({**base, "metric": name, "value": float(value)})
        for cls, value in (r.metrics.get("iou_per_class") or {}).items():
            rows.append({**base, "metric": f"iou/{cls}", "value": float("nan") if value is None else float(value)})
    columns = ["run_id", "kind", "method", "checkpoint", "protocol", "protocol_version", "dataset", "task",
               "fraction", "draw", "seed", "pretrain_seed", "preset", "reducer", "score", "higher_is_better",
               "metric", "value"]
    return pd.DataFrame(rows, columns=columns)


def load(root: str | Path | None = None) -> pd.DataFrame:
    """All run records of a store as a pandas long table."""
    return records_to_frame(ResultsStore(root).records())
