"""One pretraining epoch with a cold vs a warm disk cache, and with 0 vs N DataLoader workers, measured in
one run (ratios against the cold, 0-worker epoch)."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from bench3d.datasets import resolve_dataset
from bench3d.engine.disk_cache import DiskCache
from bench3d.methods import PretrainContext, build_method


def compare_epoch_speed(dataroot: Path | None, method: str = "slidr", workers: int = 2,
                        max_samples: int | None = 40) -> dict[str, Any]:
    ds = resolve_dataset("synth", dataroot)
    reader = ds.open_reader()
    names = {s.name for s in reader.sequences()}
    from bench3d.data.nuscenes.tables import split_scene_names

    train = [n for n in split_scene_names(ds.dataroot, ds.version, ds.train_split) if n in names]
    tokens = [t for seq in reader.sequences(train) for t in seq.sample_tokens][:max_samples]
    tmp = Path(tempfile.mkdtemp(prefix="bench3d-loader-"))
    out: dict[str, Any] = {"method": method, "samples": len(tokens), "workers": workers}
    try:
        cache = tmp / "cache"
        for label, n_workers in (("cold_0_workers", 0), ("warm_0_workers", 0), (f"warm_{workers}_workers", workers)):
            adapter = build_method(method, overrides={"epochs": 1}, synthetic_data=ds.synthetic)
            ctx = PretrainContext(reader=reader, sample_tokens=tokens, device=torch.device("cpu"), seed=0,
                                  workers=n_workers, disk_cache=DiskCache(cache))
            t0 = time.perf_counter()
            adapter.pretrain(ctx, tmp / f"{label}.pt")
            out[f"{label}_s"] = round(time.perf_counter() - t0, 2)
        base = out["cold_0_workers_s"]
        out["warm_cache_speedup"] = round(base / out["warm_0_workers_s"], 2)
        out[f"warm_cache_{workers}_workers_speedup"] = round(base / out[f"warm_{workers}_workers_s"], 2)
        return out
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
