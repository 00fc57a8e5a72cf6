"""Results under concurrency and faults: one shared pretraining for concurrent runs, SIGKILLs anywhere
(including at the record-publish step) resume to the numbers of an uninterrupted run without retraining a
finished epoch, and nothing is left behind."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench3d.results import ResultsStore

HERE = Path(__file__).parent
PIPELINE = ["run", "--method", "scalr", "--protocol", "linear_probe", "--seed", "0"]


def _env(cards: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "BENCH3D_CARDS": str(cards), "PYTHONPATH": str(HERE.parent), **extra}


def _bench3d(args: list[str], store: Path, release: Path) -> list[str]:
    return [sys.executable, "-m", "bench3d", *args, "--dataroot", str(release), "--results", str(store)]


def _leftovers(store: Path) -> list[Path]:
    return [p for p in store.rglob("*") if ".tmp." in p.name or p.suffix in {".lock", ".state"}
            or (p.parent.name == "work")]


def _numbers(store: Path) -> dict[str, object]:
    """What must equal an uninterrupted run: every record's metrics that training determines."""
    out = {}
    for r in ResultsStore(store).records():
        m = r.metrics
        out[f"{r.kind}:{r.run_id}"] = (m.get("loss_history"), m.get("confusion_matrix"), m.get("miou"))
    return out


def _segments(store: Path) -> list[list[int]]:
    return [r.metrics["segment_starts"] for r in ResultsStore(store).records()]


@pytest.fixture(scope="module")
def reference(harness_release: Path, short_cards: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float]:
    store = tmp_path_factory.mktemp("reference") / "store"
    t0 = time.perf_counter()
    subprocess.run(_bench3d(PIPELINE, store, harness_release), env=_env(short_cards), check=True, capture_output=True)
    return store, time.perf_counter() - t0


def test_six_concurrent_probes_share_one_pretraining(harness_release: Path, short_cards: Path, tmp_path: Path,
                                                     reference: tuple[Path, float]) -> None:
    store = tmp_path / "store"
    base = ["run", "--method", "scalr", "--protocol", "linear_probe"]
    # Seeds 0..5, and seed 0 twice: the same run id in two processes at once.
    seeds = [0, 1, 2, 3, 4, 5, 0]
    procs = [subprocess.Popen(_bench3d([*base, "--seed", str(s)], store, harness_release), env=_env(short_cards),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for s in seeds]
    outs = [p.communicate(timeout=900) for p in procs]
    assert [p.returncode for p in procs] == [0] * len(seeds), [o[1][-500:] for o in outs]
    records = ResultsStore(store).records()
    pretrainings = [r for r in records if r.kind == "pretrain"]
    assert len(pretrainings) == 1 and pretrainings[0].metrics["segment_starts"] == [0]  # trained once
    assert sorted(r.seed for r in records if r.kind == "evaluation") == [0, 1, 2, 3, 4, 5]
    assert len(list((store / "checkpoints").glob("*.pt"))) == 1
    assert _leftovers(store) == []
    # Seed 0 equals the reference run made alone.
    ref = {k: v for k, v in _numbers(reference[0]).items()}
    assert all(ref[k] == v for k, v in _numbers(store).items() if k in ref) and len(set(ref) & set(_numbers(store))) == 2


@pytest.mark.parametrize("when", ["before", "after"])
def test_kill_at_the_record_publish_step(harness_release: Path, short_cards: Path, tmp_path: Path, when: str,
                                         reference: tuple[Path, float]) -> None:
    """Killed just before / just after publishing the pretraining record, then the evaluation record."""
    store = tmp_path / "store"
    fault = [sys.executable, str(HERE / "_fault_runner.py"), *PIPELINE, "--dataroot", str(harness_release),
             "--results", str(store)]
    # Run 1 dies at the pretraining record. Killed before it, run 2 publishes it first (write 1) and dies at the
    # evaluation record (write 2); killed after it, run 2's first write is already the evaluation record.
    for kill_at in ("1", "2" if when == "before" else "1"):
        proc = subprocess.run(fault, env=_env(short_cards, KILL_AT=kill_at, KILL_WHEN=when), capture_output=True)
        assert proc.returncode == -signal.SIGKILL
    subprocess.run(_bench3d(PIPELINE, store, harness_release), env=_env(short_cards), check=True, capture_output=True)
    assert _numbers(store) == _numbers(reference[0])
    assert _leftovers(store) == []
    for segments in _segments(store):  # resumed at the last epoch: nothing finished was trained again
        assert segments == sorted(segments) and len(segments) == (2 if when == "before" else 1)


@pytest.mark.slow
def test_sigkills_at_random_moments_resume_to_identical_numbers(harness_release: Path, short_cards: Path,
                                                                tmp_path: Path, reference: tuple[Path, float]) -> None:
    """BENCH3D_KILL_TRIALS independent trials (10 for the closing note; 3 in CI): each pipeline is killed at a
    random moment of its uninterrupted duration, then rerun to the end."""
    trials = int(os.environ.get("BENCH3D_KILL_TRIALS", "3"))
    rng = random.Random(0)
    expected = _numbers(reference[0])
    for trial in range(trials):
        store = tmp_path / f"store{trial}"
        delay = rng.uniform(0.1, 1.0) * reference[1]
        proc = subprocess.Popen(_bench3d(PIPELINE, store, harness_release), env=_env(short_cards),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        time.sleep(delay)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        subprocess.run(_bench3d(PIPELINE, store, harness_release), env=_env(short_cards), check=True,
                       capture_output=True)
        assert _numbers(store) == expected, f"trial {trial} (killed after {delay:.1f} s)"
        assert _leftovers(store) == [], f"trial {trial}"
        for segments in _segments(store):
            assert segments == sorted(segments), f"trial {trial}: a finished epoch was trained again: {segments}"
