"""Orchestration: render the scenes in a process pool, then write the tables; publish atomically.

Everything is written into a hidden temporary folder next to the target and renamed into place at the end, so a
killed run never leaves a half-written release at the target path.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import bench3d
from bench3d.synth import files, tables
from bench3d.synth.config import SynthConfig, SynthOptionError
from bench3d.synth.names import scene_names, splits
from bench3d.synth.scene import SceneJob, frame_count, run_scene

log = logging.getLogger(__name__)
Progress = Callable[[int, int], None]  # (frames done, frames total)
_counter = None  # per-worker shared frame counter


def _init_worker(counter) -> None:
    global _counter
    _counter = counter


def _bump(k: int) -> None:
    with _counter.get_lock():
        _counter.value += k


def _run_in_worker(job: SceneJob) -> dict:
    return run_scene(job, _bump)


def check_target(out: Path, overwrite: bool) -> None:
    """Refuse to replace anything but an empty folder unless `overwrite`."""
    if out.exists() and not out.is_dir():
        raise SynthOptionError("out", f"out_dir {out} exists and is not a directory")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise SynthOptionError(
            "out", f"out_dir {out} is not empty; pass overwrite=True (CLI: --overwrite) to replace it")


def _render(jobs: list[SceneJob], workers: int, total: int, progress: Progress | None) -> list[dict]:
    if workers <= 1 or len(jobs) <= 1:
        done = 0

        def bump(k: int) -> None:
            nonlocal done
            done += k
            if progress:
                progress(done, total)

        return [run_scene(job, bump) for job in jobs]
    # fork: workers start in milliseconds and inherit imports; spawn where fork does not exist.
    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    counter = ctx.Value("q", 0)
    with ctx.Pool(min(workers, len(jobs)), initializer=_init_worker, initargs=(counter,)) as pool:
        pending = [pool.apply_async(_run_in_worker, (job,)) for job in jobs]
        while not all(p.ready() for p in pending):
            if progress:
                progress(counter.value, total)
            time.sleep(0.2)
        results = [p.get() for p in pending]  # re-raises a worker's exception
    if progress:
        progress(total, total)
    return results


def _write_tables(root: Path, cfg: SynthConfig, results: list[dict], names: list[str]) -> None:
    table_root = root / cfg.version
    merged: dict[str, list[dict]] = {}
    for res in sorted(results, key=lambda r: r["index"]):
        for name, records in res["tables"].items():
            merged.setdefault(name, []).extend(records)
    merged["scene"].sort(key=lambda r: r["name"])
    maps: dict[str, list[str]] = {}
    for res in results:
        maps.setdefault(res["map"]["token"], []).append(res["map"]["log_token"])
    merged["map"] = [tables.map_record(tok, logs) for tok, logs in sorted(maps.items())]
    merged["category"] = tables.category_table()
    merged["attribute"] = tables.attribute_table()
    merged["visibility"] = tables.visibility_table()
    merged["sensor"] = tables.sensor_table()
    for name, records in merged.items():
        files.write_json(table_root / f"{name}.json", records)
    files.write_json(table_root / "splits.json", splits(cfg.version, names))
    agents = {}
    for res in results:
        agents.update(res["agents"])
    files.write_json(root / files.SIDECAR_DIR / "agents.json", agents)
    files.write_json(root / files.SIDECAR_DIR / "release.json", {
        "generator": "bench3d.synth", "bench3d_version": bench3d.__version__, "config": cfg.to_dict(),
        "scenes": names, "pixel_classes": "uint8 fine class per pixel, 255 = sky",
        "depth": "uint16 z-depth in centimetres, 0 = sky or beyond 655 m",
    })


def generate_release(out_dir: str | os.PathLike, cfg: SynthConfig | None = None, *, overwrite: bool = False,
                     progress: Progress | None = None) -> Path:
    """Write a synthetic nuScenes release to `out_dir` and return it (the devkit's `dataroot`)."""
    cfg = cfg or SynthConfig()
    out = Path(out_dir).resolve()
    check_target(out, overwrite)
    names = scene_names(cfg.version, cfg.scenes)
    tmp = out.parent / f".{out.name}.partial-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    started = time.perf_counter()
    try:
        jobs = [SceneJob(cfg, i, name, str(tmp)) for i, name in enumerate(names)]
        total = frame_count(cfg) * len(jobs)
        results = _render(jobs, cfg.workers, total, progress)
        _write_tables(tmp, cfg, results, names)
        if out.exists():
            old = out.parent / f".{out.name}.old-{os.getpid()}"
            out.rename(old)
            tmp.rename(out)
            shutil.rmtree(old)
        else:
            tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    elapsed = time.perf_counter() - started
    log.info("wrote %s (%d scenes x %d samples, %d sensor frames) in %.1f s", out, cfg.scenes, cfg.samples_per_scene,
             total, elapsed)
    _log_throughput(results, elapsed)
    return out


def _log_throughput(results: list[dict], elapsed: float) -> None:
    """Per-sensor rendering rates (render + encode + write, per worker process) and the overall rate."""
    t = {k: sum(r["timing"][k] for r in results) for k in ("lidar_frames", "lidar_s", "images", "camera_s")}
    log.info("LiDAR: %d sweeps, %.1f sweeps/s per worker; cameras: %d images, %.1f images/s per worker; "
             "overall %.1f sensor frames/s", t["lidar_frames"], t["lidar_frames"] / max(t["lidar_s"], 1e-9),
             t["images"], t["images"] / max(t["camera_s"], 1e-9), (t["lidar_frames"] + t["images"]) / elapsed)
