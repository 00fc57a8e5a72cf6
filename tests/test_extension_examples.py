"""The worked examples of docs/architecture.md run end to end without a line of harness code changing: a
method (tests/examples/toy_method.py) and a task (tests/examples/toy_task.py) registered here only, with
their cards in $BENCH3D_CARDS, through `bench3d check-method`, `bench3d run` and `bench3d table`. Also:
the modality check, and pretraining seeds in the table's n."""

from __future__ import annotations

import csv
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import examples.toy_method  # noqa: F401  (registers the adapter)
import examples.toy_task  # noqa: F401  (registers the task)
from _cards import using_cards
from bench3d.cli.main import app
from bench3d.errors import ConfigError
from bench3d.harness.matrix import expand_matrix
from bench3d.harness.mock import mock_run
from bench3d.tasks import register_task
from bench3d.tasks.registry import TASKS

EXAMPLES = Path(__file__).parent / "examples" / "cards"
cli = CliRunner()


@pytest.fixture()
def example_cards(short_cards: Path, tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "cards"
    shutil.copytree(short_cards, root)
    for kind in ("methods", "protocols"):
        for path in (EXAMPLES / kind).glob("*.yaml"):
            shutil.copy(path, root / kind / path.name)
    with using_cards(root):
        yield root


def _invoke(*args: str) -> str:
    result = cli.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _cells(md: str, method: str) -> list[str]:
    row = next(line for line in md.splitlines() if line.startswith(f"| {method} |"))
    return [c.strip() for c in row.strip("|").split("|")][1:]


def test_example_method_passes_the_mock_check(example_cards: Path, tiny_release: Path) -> None:
    out = mock_run("toy_height", tiny_release)
    assert out["pretrains"] and out["loss"] > 0 and "lidar/toy_point_count" in out["tasks"]


def test_example_task_through_run_and_table_bolds_the_lowest(example_cards: Path, harness_release: Path,
                                                             tmp_path: Path) -> None:
    store, reports = tmp_path / "results", tmp_path / "reports"
    out = _invoke("run", "--method", "random", "--method", "toy_height", "--protocol", "toy_probe",
                  "--dataroot", str(harness_release), "--results", str(store))
    assert out.count("L1 (k points)") == 4  # 2 methods x 2 seeds
    md = _invoke("table", "--results", str(store), "--out", str(reports), "--task", "toy_point_count")
    assert "lower is better" in md
    means = {}
    for method in ("random", "toy_height"):
        (cell,) = _cells(md, method)
        means[method] = (float(re.search(r"[\d.]+", cell).group()), cell.startswith("**"))
    best = min(means, key=lambda m: means[m][0])
    assert means[best][1] and not means[max(means, key=lambda m: means[m][0])][1]
    assert "(2)" in _cells(md, "random")[0]  # n = 1 pretraining seed x 2 seeds x 1 draw


def test_matrix_refuses_a_task_that_cannot_consume_the_backbone(example_cards: Path, tmp_path: Path) -> None:
    class CameraPointCount(examples.toy_task.PointCount):
        name = "toy_camera_count"
        consumes = frozenset({"camera"})

    register_task(CameraPointCount)
    card = (example_cards / "protocols" / "toy_probe.yaml").read_text()
    (example_cards / "protocols" / "camera_probe.yaml").write_text(
        card.replace("name: toy_probe", "name: camera_probe").replace("name: toy_point_count", "name: toy_camera_count"))
    try:
        with pytest.raises(ConfigError, match=r"method 'scalr' cannot run protocol 'camera_probe': task "
                                              r"'toy_camera_count' consumes \['camera'\] backbones"):
            expand_matrix(["scalr"], ["camera_probe"], "synth")
    finally:
        TASKS.unregister("toy_camera_count")


def test_table_counts_pretraining_seeds_times_probe_seeds(harness_release: Path, short_cards: Path,
                                                          tmp_path: Path) -> None:
    store, reports = tmp_path / "results", tmp_path / "reports"
    out = _invoke("run", "--method", "random", "--method", "scalr", "--protocol", "linear_probe",
                  "--pretrain-seed", "0", "--pretrain-seed", "1", "--seed", "0", "--seed", "1", "--seed", "2",
                  "--dataroot", str(harness_release), "--results", str(store))
    assert "12 run(s)" in out
    md = _invoke("table", "--results", str(store), "--out", str(reports), "--reference", "ScaLR")
    for row in ("random", "scalr (appearance)"):  # a row names the 2D teacher its method distilled from
        assert _cells(md, row)[0].endswith("(6)")
    with (reports / "table_runs.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2
    assert all((r["n"], r["n_pretrain_seeds"], r["n_seeds"], r["n_draws"]) == ("6", "2", "3", "1") for r in rows)
    # Two pretraining seeds are two checkpoints; random's two init seeds give two different backbones.
    from bench3d.results import ResultsStore

    records = [r for r in ResultsStore(store).records() if r.kind == "evaluation"]
    assert len({r.checkpoint for r in records if r.method == "scalr"}) == 2
    random_miou = {r.pretrain_seed: r.metrics["miou"] for r in records if r.method == "random" and r.seed == 0}
    assert random_miou[0] != random_miou[1]
