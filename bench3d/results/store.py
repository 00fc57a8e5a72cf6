"""Results store: a folder of run records, one `<run_id>.json` each.

Writes go to a temporary file in the same folder (named after its writer's host and pid), then `os.link`
publishes it under its final name: the link fails if the name exists, so a finished record is never
overwritten, and readers never see a half-written file. Records are readable by all (0644 under the
default umask). A file that is not a record is reported with its path and skipped, never blocking the rest.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pandas as pd

from bench3d.errors import Bench3DError, DataError
from bench3d.paths import results_dir, temp_name
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
        self.ensure_writable()
        final = self.path_of(record.run_id)
        tmp = temp_name(self.root / f".{record.run_id}.json")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # 0644 under the usual umask
            with os.fdopen(fd, "w") as f:
                f.write(record.model_dump_json(indent=1))
                f.flush()
                os.fsync(f.fileno())
            try:
                os.link(tmp, final)
            except FileExistsError:
                raise RecordExistsError(f"{final} already exists; a finished run is never overwritten "
                                        "(move the file away to rerun that run)") from None
        except OSError as exc:
            raise DataError(final, f"cannot write the run record: {exc.strerror or exc}",
                            "free space or fix the store's permissions; nothing was published") from None
        finally:
            tmp.unlink(missing_ok=True)
        log.info("wrote run record %s", final)
        return final

    def ensure_writable(self) -> None:
        """The store folder exists and takes files; a clear error naming it otherwise."""
        if self.root.exists() and not self.root.is_dir():
            raise DataError(self.root, "the results store path is a file", "pass --results a folder")
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DataError(self.root, f"cannot create the results store: {exc.strerror}",
                            "pass --results a folder you can write") from None
        if not os.access(self.root, os.W_OK | os.X_OK):
            raise DataError(self.root, "the results store is not writable", "pass --results a folder you can write")

    def read(self, run_id: str) -> RunRecord:
        return self._read_path(self.path_of(run_id))

    @staticmethod
    def _read_path(path: Path) -> RunRecord:
        try:
            return RunRecord.model_validate(json.loads(path.read_text()))
        except (json.JSONDecodeError, ValueError, UnicodeDecodeError) as exc:
            first = str(exc).splitlines()[0]
            raise DataError(path, f"is not a valid run record ({first})", "move it out of the store") from None

    def records(self) -> list[RunRecord]:
        """Every valid record; files that are not records are logged with their path and skipped."""
        good, bad = self.scan()
        for path, why in bad:
            log.warning("skipped %s: %s", path, why)
        return good

    def scan(self) -> tuple[list[RunRecord], list[tuple[Path, str]]]:
        """(valid records, [(path, why)] of `*.json` files that are not valid records)."""
        if self.root.exists() and not self.root.is_dir():
            raise DataError(self.root, "the results store path is a file", "pass --results a folder")
        if not self.root.is_dir():
            return [], []
        good, bad = [], []
        for path in sorted(self.root.glob("*.json")):
            try:
                record = self._read_path(path)
            except (DataError, OSError) as exc:
                bad.append((path, str(exc).removeprefix(f"{path}: ")))
                continue
            if record.run_id != path.stem:
                bad.append((path, f"holds run {record.run_id!r}, not {path.stem!r}"))
                continue
            good.append(record)
        return good, bad


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
