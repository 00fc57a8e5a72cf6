"""Run identity: the run id covers the dataset's content (not its path), the checkpoint's bytes and the
numerics; checkpoints are verified before use; two stores can be compared run by run."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from bench3d.cli.main import main
from bench3d.errors import ConfigError
from bench3d.harness.runner import Runner
from bench3d.harness.specs import EvalSpec, PretrainSpec
from bench3d.reports.compare import compare_stores
from bench3d.results import ResultsStore

LP = EvalSpec("random", "linear_probe", "synth", 1.0, 0, 0)


def _runner(store: Path, release: Path) -> Runner:
    return Runner(ResultsStore(store), "cpu", release)


def _linked_copy(release: Path, dst: Path) -> Path:
    dst.mkdir()
    for item in release.iterdir():
        (dst / item.name).symlink_to(item)
    return dst


def test_another_release_is_another_run_and_another_path_is_not(harness_release: Path, short_cards: Path,
                                                                tmp_path: Path) -> None:
    from bench3d.synth import SynthConfig, generate_release

    other = generate_release(tmp_path / "seed1", SynthConfig(scenes=4, samples_per_scene=4, image_size=(56, 100),
                                                             seed=1, workers=2))
    store = tmp_path / "store"
    a = _runner(store, harness_release).evaluate(LP)
    b = _runner(store, other).evaluate(LP)  # same names, versions and splits; other content
    assert a.run_id != b.run_id and a.metrics["miou"] != b.metrics["miou"]
    assert a.provenance.resolved_config["dataset"]["tables_sha256"] != b.provenance.resolved_config["dataset"]["tables_sha256"]
    moved = _runner(store, _linked_copy(harness_release, tmp_path / "moved")).evaluate(LP)  # same content elsewhere
    assert moved == a  # same id: skipped, the first record returned


def test_thread_count_is_part_of_the_run_id(harness_release: Path, short_cards: Path, tmp_path: Path) -> None:
    threads = torch.get_num_threads()
    ids = []
    try:
        for n in (1, 2):
            torch.set_num_threads(n)
            ids.append(_runner(tmp_path / "store", harness_release).evaluate(LP).run_id)
    finally:
        torch.set_num_threads(threads)
    assert ids[0] != ids[1]
    records = ResultsStore(tmp_path / "store").records()
    assert sorted(r.provenance.resolved_config["numerics"]["torch_threads"] for r in records) == [1, 2]
    assert all(r.provenance.cpu for r in records)


def test_a_swapped_checkpoint_is_a_one_line_error(harness_release: Path, short_cards: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture) -> None:
    store = tmp_path / "store"
    runner = _runner(store, harness_release)
    _, scalr = runner.pretrain(PretrainSpec("scalr", "synth"))
    _, slidr = runner.pretrain(PretrainSpec("slidr", "synth"))
    shutil.copy(slidr, scalr)  # SLidR's weights under ScaLR's name
    with pytest.raises(ConfigError, match=r"sha256 .* does not match its pretraining record"):
        runner.evaluate(EvalSpec("scalr", "linear_probe", "synth", 1.0, 0, 0))
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--method", "scalr", "--protocol", "linear_probe", "--seed", "0", "--dataroot",
              str(harness_release), "--results", str(store)])
    err = capsys.readouterr().err.strip()
    assert exit_info.value.code == 1 and err.count("\n") == 0 and "does not match its pretraining record" in err
    assert not [r for r in ResultsStore(store).records() if r.kind == "evaluation"]


def test_user_checkpoints_are_matched_by_sha256_or_recorded_as_unrecorded(harness_release: Path, short_cards: Path,
                                                                          tmp_path: Path) -> None:
    store = tmp_path / "store"
    runner = _runner(store, harness_release)
    pre_id, ckpt = runner.pretrain(PretrainSpec("scalr", "synth"))
    mine = tmp_path / "mine.pt"
    shutil.copy(ckpt, mine)
    spec = EvalSpec("scalr", "linear_probe", "synth", 1.0, 0, 0, checkpoint=str(mine))
    ours = runner.evaluate(EvalSpec("scalr", "linear_probe", "synth", 1.0, 0, 0))
    assert runner.evaluate(spec) == ours  # the same bytes are the same checkpoint: same run id, skipped
    elsewhere = _runner(tmp_path / "other", harness_release)  # a store without its pretraining record
    with pytest.raises(ConfigError, match="--unrecorded-checkpoint"):
        elsewhere.evaluate(spec)
    record = elsewhere.evaluate(EvalSpec(**{**spec.__dict__, "unrecorded_checkpoint": True}))
    config = record.provenance.resolved_config["checkpoint"]
    assert record.checkpoint is None and config["source"] == "user" and config["sha256"] == ours.provenance.checkpoint_sha256
    assert record.metrics["miou"] == ours.metrics["miou"] and record.run_id != ours.run_id
    assert pre_id == ours.checkpoint


def test_compare_two_stores(harness_release: Path, short_cards: Path, tmp_path: Path) -> None:
    a = _runner(tmp_path / "a", harness_release).evaluate(LP)
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    df = compare_stores(tmp_path / "a", tmp_path / "b")
    assert df.run_id.tolist() == [a.run_id] and df.difference.tolist() == [0.0] and df.same_cpu.all()


def test_fixed_weights_take_one_pretraining_seed() -> None:
    """ImageNet weights have nothing to seed: other pretraining seeds would be copies of one run, shown as a
    spread of zero over n runs. Random inits and pretrainings keep every seed."""
    from bench3d.harness.matrix import expand_matrix

    specs = expand_matrix(["imagenet", "random_camera", "geomim"], ["bev_seg_probe"], "synth",
                          pretrain_seeds=[0, 1, 2], seeds=[0, 1])
    seeds = {m: sorted({(s.pretrain_seed, s.seed) for s in specs if s.method == m}) for m in ("imagenet", "random_camera", "geomim")}
    assert seeds["imagenet"] == [(0, 0), (0, 1)]  # downstream seeds still vary
    assert seeds["random_camera"] == seeds["geomim"] == [(p, s) for p in (0, 1, 2) for s in (0, 1)]
