"""Keeping a results store clean: what dead processes left behind, and files that are not records.

Safe on a store shared by many hosts: a temporary file is removed only when its writer (named in the file
name) is a dead process on this host; a work folder only when no process holds its lock.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
from dataclasses import dataclass, field
from pathlib import Path

from bench3d.paths import temp_writer
from bench3d.results import ResultsStore
from bench3d.results.locks import is_locked

log = logging.getLogger(__name__)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class StoreReport:
    records: int = 0
    bad_records: list[tuple[Path, str]] = field(default_factory=list)
    dead_temp_files: list[Path] = field(default_factory=list)  # temp files of dead writers, lock files nobody holds
    stale_work: list[Path] = field(default_factory=list)  # evaluation work folders and pretraining states
    orphan_checkpoints: list[Path] = field(default_factory=list)  # no record, no lock: an unfinished pretraining

    @property
    def clean(self) -> bool:
        return not (self.bad_records or self.dead_temp_files or self.stale_work)


def _dead_temp_files(root: Path) -> list[Path]:
    host = socket.gethostname()
    out = []
    for path in root.rglob("*"):
        writer = temp_writer(path)
        if writer and writer[0] == host and not pid_alive(writer[1]):
            out.append(path)
    return sorted(out)


def _free_locks(root: Path) -> list[Path]:
    """Lock files that no process holds (their owner died). Removing one is safe: an acquirer checks that the
    inode it locked is still the one at the path."""
    return sorted(p for p in root.rglob("*.lock") if not is_locked(p))


def _stale_work(store: ResultsStore) -> list[Path]:
    """Work folders whose run is not running: finished (record published) or empty."""
    work = store.root / "work"
    if not work.is_dir():
        return []
    out = []
    for folder in sorted(p for p in work.iterdir() if p.is_dir()):
        if is_locked(work / f"{folder.name}.lock"):
            continue
        if store.has(folder.name) or not any(folder.iterdir()):
            out.append(folder)
    return out


def _stale_pretrain_states(store: ResultsStore) -> list[Path]:
    """Resumable states of pretrainings whose record is published (killed before removing the state)."""
    ckpts = store.root / "checkpoints"
    if not ckpts.is_dir():
        return []
    out = []
    for state in sorted(ckpts.glob("*.pt.state")):
        run_id = state.name.split(".")[0]
        if store.has(run_id) and not is_locked(ckpts / f"{run_id}.lock"):
            out.append(state)
    return out


def check_store(store: ResultsStore, scan_records: bool = True) -> StoreReport:
    """What does not belong in the store. `scan_records=False` skips parsing every record (the sweep a
    runner does when it starts needs only dead processes' leftovers)."""
    good, bad = store.scan() if scan_records else ([], [])
    report = StoreReport(records=len(good), bad_records=bad)
    if not store.root.is_dir():
        return report
    report.dead_temp_files = _dead_temp_files(store.root) + _free_locks(store.root)
    report.stale_work = _stale_work(store) + _stale_pretrain_states(store)
    ckpts = store.root / "checkpoints"
    if ckpts.is_dir():
        report.orphan_checkpoints = sorted(
            p for p in ckpts.glob("*.pt") if not store.has(p.stem) and not is_locked(p.with_suffix(".lock")))
    return report


def repair_store(store: ResultsStore, report: StoreReport, quarantine_bad: bool = False) -> list[str]:
    """Remove dead writers' temp files and stale work folders; optionally move bad records to quarantine/."""
    done = []
    for path in report.dead_temp_files:
        path.unlink(missing_ok=True)
        done.append(f"removed {path}")
    for stale in report.stale_work:
        if stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink(missing_ok=True)
        done.append(f"removed {stale}")
    if quarantine_bad:
        target = store.root / "quarantine"
        for path, _ in report.bad_records:
            target.mkdir(exist_ok=True)
            path.rename(target / path.name)
            done.append(f"moved {path} to {target}")
    for line in done:
        log.info(line)
    return done
