"""Memory flatness in the dataset's size: the peak RSS of the same pretraining on a small and a large
synthetic world, each in its own process, and their ratio (the baseline is measured in the same run)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from bench3d.cards.loader import _card_paths


def _cards_with(root: Path, method: str, overrides: dict[str, Any]) -> Path:
    """A BENCH3D_CARDS folder: every shipped card, with `overrides` in `method`'s tiny preset."""
    for kind in ("methods", "protocols"):
        (root / kind).mkdir(parents=True, exist_ok=True)
        for name, path in _card_paths(kind).items():
            card = yaml.safe_load(path.read_text())
            if kind == "methods" and name == method:
                card["presets"]["tiny"].update(overrides)
            (root / kind / f"{name}.yaml").write_text(yaml.safe_dump(card))
    return root


def _peak_rss_mb(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(peak RSS in MB, wall seconds) of a child process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {err.strip().splitlines()[-1] if err.strip() else proc.returncode}")
    return usage.ru_maxrss / 1024.0, time.perf_counter() - t0


def compare_pretraining_memory(small: tuple[int, int], large: tuple[int, int], image_size: tuple[int, int],
                               method: str = "scalr", epochs: int = 1, workers: int = 0) -> dict[str, Any]:
    """Generate two worlds (scenes x samples), pretrain `method` (tiny preset, `epochs`) on each."""
    from bench3d.synth import SynthConfig, generate_release

    tmp = Path(tempfile.mkdtemp(prefix="bench3d-memory-"))
    try:
        cards = _cards_with(tmp / "cards", method, {"epochs": epochs})
        env = {**os.environ, "BENCH3D_CARDS": str(cards), "BENCH3D_CACHE": str(tmp / "cache")}
        out: dict[str, Any] = {"method": method, "epochs": epochs, "image_size": list(image_size), "workers": workers}
        for label, (scenes, samples) in (("small", small), ("large", large)):
            release = generate_release(tmp / label, SynthConfig(scenes=scenes, samples_per_scene=samples,
                                                                image_size=image_size, seed=0))
            train = (scenes - 2) * samples  # the generator writes the two mini_val scenes first
            cmd = [sys.executable, "-m", "bench3d", "pretrain", "--method", method, "--dataroot", str(release),
                   "--results", str(tmp / f"results-{label}"), "--workers", str(workers)]
            peak, wall = _peak_rss_mb(cmd, env)
            out[label] = {"scenes": scenes, "samples_per_scene": samples, "train_samples": train,
                          "peak_rss_mb": round(peak, 1), "wall_s": round(wall, 1)}
        out["ratio_large_to_small"] = round(out["large"]["peak_rss_mb"] / out["small"]["peak_rss_mb"], 3)
        return out
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
