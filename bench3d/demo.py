"""The embedded benchmark: synthetic world -> pretrain ScaLR (tiny) -> LP and 1 % finetune for random and
ScaLR -> comparison table in reports/; and the camera rows: random vs ImageNet init on the BEV map
segmentation probe -> a second table. Every step is skipped when its output already exists."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from bench3d.data.nuscenes import NuScenesReader
from bench3d.errors import DataError
from bench3d.data.nuscenes.summary import DatasetSummary, summarise
from bench3d.harness.matrix import expand_matrix
from bench3d.harness.runner import EpochCallback, Runner
from bench3d.paths import DEFAULT_SYNTH_VERSION, default_synth_root
from bench3d.reports.comparison import write_comparison
from bench3d.results import ResultsStore
from bench3d.viz.frame_figure import render_frame

log = logging.getLogger(__name__)

DEMO_METHODS = ("random", "scalr")
CAMERA_METHODS = ("random_camera", "imagenet")
CAMERA_PROTOCOL = "bev_seg_probe"


@dataclass
class DemoOutputs:
    dataroot: Path
    summary: DatasetSummary
    preview: Path
    table_markdown: str
    table_paths: list[Path]
    camera_markdown: str = ""


def ensure_synthetic_world(root: Path | None = None) -> Path:
    """The default synthetic release, generated once (about a minute on 2 cores)."""
    from bench3d.synth import SynthConfig, generate_release

    root = root or default_synth_root()
    if not (root / DEFAULT_SYNTH_VERSION / "scene.json").is_file():
        log.info("generating the synthetic world in %s", root)
        generate_release(root, SynthConfig())
    elif not any((root / "maps" / "expansion").glob("*.json")):  # the camera rows need its map layers
        raise DataError(root / "maps" / "expansion", "the synthetic world has no map expansion (it was made by an "
                        "older bench3d)", f"delete {root} and rerun `make demo` (or `bench3d synth --out {root}`)")
    return root


def run_demo(dataroot: Path | None = None, results: Path | None = None, reports: Path = Path("reports"),
             on_epoch: EpochCallback | None = None, seeds: tuple[int, ...] = (0, 1, 2)) -> DemoOutputs:
    root = ensure_synthetic_world(dataroot)
    reader = NuScenesReader(root, DEFAULT_SYNTH_VERSION)
    summary = summarise(reader)
    preview = render_frame(reader.frame(reader.sequences()[0].sample_tokens[0]), reports / "synth_preview.png")
    runner = Runner(ResultsStore(results), "cpu", root, on_epoch)
    specs = expand_matrix(DEMO_METHODS, ["linear_probe"], "synth", seeds=seeds)
    specs += expand_matrix(DEMO_METHODS, ["finetune"], "synth", fractions=[0.01], draws=[0], seeds=seeds)
    # One seed per camera row keeps the whole demo under 15 minutes on 2 cores (a camera probe run takes ~1.6
    # min); the 3-seed comparison is tests/test_camera_effect.py and `bench3d run ... --protocol bev_seg_probe`.
    camera = expand_matrix(CAMERA_METHODS, [CAMERA_PROTOCOL], "synth", seeds=seeds[:1])
    for spec in specs + camera:
        runner.evaluate(spec)
    paths, markdown = write_comparison(results, "synth", reports, ["Random", "ScaLR"], task="lidar_semseg")
    camera_paths, camera_markdown = write_comparison(results, "synth", reports, task="bev_seg", stem="table_bev_seg")
    return DemoOutputs(root, summary, preview, markdown, paths + camera_paths, camera_markdown)
