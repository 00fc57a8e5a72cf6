"""The embedded benchmark, end to end on a small synthetic world: every seed method beside its baselines in one
table, and the pretraining-cost figure.

- LiDAR segmentation (linear probe and 1 % finetune): LiMA and CMCR beside random init, ScaLR and SLidR;
- camera (BEV map segmentation probe and 3D detection probe): GeoMIM beside its Swin encoder at random init,
  MIM4D beside its ConvNeXt at random init, and ImageNet init (EfficientNet-Lite0);
- pretraining cost vs frames for the multi-frame methods (LiMA with and without its memory bank, MIM4D).

The demo's world is smaller than the default one (`DEMO_WORLD`) so the whole protocol matrix fits 20 minutes
on 2 cores: the world shrinks, never the protocols or the presets. Every step is skipped when its record
exists, so a killed demo resumes where it stopped.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from bench3d.data.nuscenes import NuScenesReader
from bench3d.data.nuscenes.summary import DatasetSummary, summarise
from bench3d.errors import DataError
from bench3d.harness.efficiency_runner import run_efficiency
from bench3d.harness.matrix import expand_matrix
from bench3d.harness.runner import EpochCallback, Runner
from bench3d.harness.specs import EvalSpec
from bench3d.paths import DEFAULT_SYNTH_VERSION, default_synth_root
from bench3d.reports.comparison import write_comparison
from bench3d.reports.efficiency import write_efficiency_report
from bench3d.reports.overview import OverviewTable, write_overview
from bench3d.results import ResultsStore, RunRecord
from bench3d.synth import SynthConfig
from bench3d.synth.files import SIDECAR_DIR
from bench3d.viz.frame_figure import render_frame

log = logging.getLogger(__name__)

#: 5 scenes (the 2 of mini_val + 3 of mini_train) x 8 keyframes, all sweeps: ~20 s to generate on 2 cores.
DEMO_WORLD = SynthConfig(scenes=5, samples_per_scene=8)
LIDAR_METHODS = ("random", "scalr", "slidr", "lima", "cmcr")  # baselines first, then the seed methods
CAMERA_METHODS = ("imagenet", "random_swin", "geomim", "random_convnext", "mim4d")  # each seed method after its encoder's random init
CAMERA_PROTOCOLS = ("bev_seg_probe", "det3d_probe")
EFFICIENCY_METHODS = ("lima", "mim4d")
EFFICIENCY_FRAMES = [1, 2]


@dataclass
class DemoOutputs:
    dataroot: Path
    summary: DatasetSummary
    preview: Path
    table: OverviewTable  # every method and protocol in one table
    table_paths: list[Path]
    efficiency_figure: Path
    #: (what, wall seconds) of every run behind the tables, dependencies first (cached runs as first recorded)
    costs: list[tuple[str, float]] = field(default_factory=list)


def ensure_synthetic_world(root: Path | None = None) -> Path:
    """The demo's synthetic release (`DEMO_WORLD`), generated once. At the default place, a release made with
    other options is an error (the demo's timings and tables are for this one), not silently reused; a
    `root` the user names is theirs to choose."""
    from bench3d.synth import generate_release

    default = root is None
    root = root or default_synth_root()
    if not (root / DEFAULT_SYNTH_VERSION / "scene.json").is_file():
        log.info("generating the synthetic world in %s", root)
        generate_release(root, DEMO_WORLD)
        return root
    made = root / SIDECAR_DIR / "release.json"
    if default and made.is_file() and json.loads(made.read_text()).get("config") != DEMO_WORLD.to_dict():
        raise DataError(made, f"the world in {root} was generated with other options than the demo's "
                        f"({DEMO_WORLD.scenes} scenes x {DEMO_WORLD.samples_per_scene} keyframes)",
                        f"move or delete {root} and rerun `make demo`, or pass it with --dataroot")
    if not any((root / "maps" / "expansion").glob("*.json")):  # the camera rows need its map layers
        raise DataError(root / "maps" / "expansion", "the synthetic world has no map expansion (it was made by an "
                        "older bench3d)", f"delete {root} and rerun `make demo` (or `bench3d synth --out {root}`)")
    return root


def demo_specs(seeds: tuple[int, ...] = (0,)) -> list[EvalSpec]:
    """The evaluation matrix, pretraining seed 0: each LiDAR method's LP and 1 % finetune (draw 0) and each
    camera method's two probes, at every downstream seed in `seeds`."""
    specs = expand_matrix(LIDAR_METHODS, ["linear_probe"], "synth", seeds=seeds)
    specs += expand_matrix(LIDAR_METHODS, ["finetune"], "synth", fractions=[0.01], draws=[0], seeds=seeds)
    specs += expand_matrix(CAMERA_METHODS, list(CAMERA_PROTOCOLS), "synth", seeds=seeds)
    return specs


def run_demo(dataroot: Path | None = None, results: Path | None = None, reports: Path = Path("reports"),
             on_epoch: EpochCallback | None = None, seeds: tuple[int, ...] = (0,)) -> DemoOutputs:
    root = ensure_synthetic_world(dataroot)
    reader = NuScenesReader(root, DEFAULT_SYNTH_VERSION)
    summary = summarise(reader)
    preview = render_frame(reader.frame(reader.sequences()[0].sample_tokens[0]), reports / "synth_preview.png")
    runner = Runner(ResultsStore(results), "cpu", root, on_epoch)
    # Cost first: a fresh process's resident set is the closest to a standalone `bench3d efficiency` run.
    efficiency = [r for m in EFFICIENCY_METHODS
                  for r in run_efficiency(runner, m, EFFICIENCY_FRAMES, steps=5, warmup=2)]
    runs = [runner.evaluate(spec) for spec in demo_specs(seeds)]
    figure_paths, _ = write_efficiency_report(efficiency, reports / "efficiency")
    paths, table = write_overview(runs, "synth", reports)
    # The LiDAR table with the published rows beside the measured ones (never mixed into them).
    lidar_paths, _ = write_comparison(results, "synth", reports, ["Random", "SLidR", "ScaLR", "LiMA", "CMCR"],
                                      task="lidar_semseg", stem="table_lidar_semseg")
    return DemoOutputs(root, summary, preview, table, paths + lidar_paths + figure_paths, figure_paths[0],
                       step_costs(runner.store, efficiency + runs))


def step_costs(store: ResultsStore, runs: list[RunRecord]) -> list[tuple[str, float]]:
    """(what, wall seconds) of every run behind `runs`, each once, dependencies first: a LiDAR BEV teacher's
    training, then the pretraining that used it, then the evaluation. Times are as first recorded."""
    costs: list[tuple[str, float]] = []
    seen: set[str] = set()

    def add(record: RunRecord) -> None:
        if record.run_id in seen:
            return
        seen.add(record.run_id)
        teacher = record.provenance.resolved_config.get("bev_teacher")
        if teacher and teacher.get("run_id") and store.has(teacher["run_id"]):
            add(store.read(teacher["run_id"]))
        if record.checkpoint and store.has(record.checkpoint):
            add(store.read(record.checkpoint))
        cache = record.metrics.get("cache_component")
        cache = f", {cache} {'on' if record.metrics.get('cache_on') else 'off'}" if cache else ""
        what = {"evaluation": f"{record.protocol} {record.fraction * 100:g}%" if record.fraction else record.protocol,
                "efficiency": f"step cost, {record.metrics.get('frames')} frame(s){cache}"}.get(record.kind, record.kind)
        costs.append((f"{record.method}: {what} (seed {record.seed})", record.provenance.wall_time_s))

    for r in runs:
        add(r)
    return costs
