"""The bad-input table: every case ends in one line naming the file, field or flag and the fix, with exit code
1 (2 for command-line usage), no traceback and no partial file. Runs the console entry point in-process."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
import yaml

from _cards import using_cards
from _records import make_record
from bench3d.cli.main import main
from bench3d.results import ResultsStore


@dataclass
class World:
    root: Path
    release: Path
    cards: Path
    store: Path


def _edit_card(world: World, kind: str, name: str, edit: Callable[[dict], None]) -> None:
    path = world.cards / kind / f"{name}.yaml"
    card = yaml.safe_load(path.read_text())
    edit(card)
    path.write_text(yaml.safe_dump(card))


def _checkpoint(world: World, name: str, payload: object) -> str:
    path = world.root / name
    torch.save(payload, path)
    return str(path)


def _broken_release(world: World, edit: Callable[[Path], None]) -> str:
    copy = world.root / "broken-release"
    copy.mkdir()
    for item in world.release.iterdir():
        if item.name == "v1.0-mini":
            shutil.copytree(item, copy / item.name)
        else:
            (copy / item.name).symlink_to(item)
    edit(copy / "v1.0-mini")
    return str(copy)


def _drop_scene_name(tables: Path) -> None:
    scenes = json.loads((tables / "scene.json").read_text())
    del scenes[0]["name"]
    (tables / "scene.json").write_text(json.dumps(scenes))


def _lidar_config() -> dict:
    return {"type": "lidar_minkunet", "backbone": "tiny", "voxel_size": 0.3, "coordinates": "cartesian",
            "in_features": "intensity", "backend": "auto"}


RUN = ["run", "--method", "scalr", "--protocol", "linear_probe", "--seed", "0"]
RAND = ["run", "--method", "random", "--protocol", "linear_probe", "--seed", "0"]

# (case id, argv from the world, setup, message fragment, exit code)
CASES: list[tuple[str, Callable[[World], list[str]], Callable[[World], None] | None, str, int]] = [
    ("unknown method", lambda w: ["run", "--method", "nope", "--protocol", "linear_probe"], None,
     "unknown method 'nope'; known methods: cmcr, geomim, imagenet, lima, mim4d, random, random_camera, random_convnext, random_swin, scalr, slidr", 1),
    ("unknown protocol", lambda w: ["run", "--method", "scalr", "--protocol", "lp"], None,
     "unknown protocol 'lp'; known protocols:", 1),
    ("unknown dataset", lambda w: [*RUN, "--dataset", "kitti360"], None, "unknown dataset 'kitti360'", 1),
    ("unknown preset", lambda w: [*RUN, "--preset", "huge"], None, "unknown preset 'huge'; known presets: paper, tiny", 1),
    ("fraction 0", lambda w: [*RUN, "--fraction", "0"], None, "'--fraction': 0.0: a label fraction must be in (0, 1]", 2),
    ("fraction 1.5", lambda w: [*RUN, "--fraction", "1.5"], None, "a label fraction must be in (0, 1]", 2),
    ("fraction -1", lambda w: [*RUN, "--fraction", "-1"], None, "a label fraction must be in (0, 1]", 2),
    ("fraction nan", lambda w: [*RUN, "--fraction", "nan"], None, "nan: a label fraction must be in (0, 1]", 2),
    ("fraction without a split rule", lambda w: [*RAND, "--fraction", "0.3", "--dataroot", str(w.release)], None,
     "--fraction 0.3: no SLidR split for this label fraction; use one of", 1),
    ("negative seed", lambda w: [*RUN, "--seed", "-1"], None, "'--seed': -1: must be >= 0", 2),
    ("negative draw", lambda w: [*RUN, "--draw", "-1"], None, "'--draw': -1: must be >= 0", 2),
    ("negative pretraining seed", lambda w: [*RUN, "--pretrain-seed", "-1"], None, "'--pretrain-seed': -1", 2),
    ("device gpu", lambda w: [*RAND, "--device", "gpu", "--dataroot", str(w.release)], None, "--device 'gpu'", 1),
    ("device without CUDA", lambda w: [*RAND, "--device", "cuda:99", "--dataroot", str(w.release)], None,
     "--device cuda:99:", 1),
    ("component without state", lambda w: [*RUN, "--component", "memory_bank"], None, "use NAME=on or NAME=off", 2),
    ("unknown component", lambda w: [*RUN, "--component", "teleport=off"], None,
     "method 'scalr' has no component(s) ['teleport']", 1),
    ("store is a file", lambda w: [*RAND, "--results", str(w.root / "file"), "--dataroot", str(w.release)],
     lambda w: (w.root / "file").write_text("x"), "the results store path is a file (pass --results a folder)", 1),
    ("store cannot be created", lambda w: [*RAND, "--results", "/proc/bench3d-store", "--dataroot", str(w.release)],
     None, "/proc/bench3d-store: cannot create the results store", 1),
    ("table of a store without evaluations", lambda w: ["table", "--results", str(w.root / "empty")],
     lambda w: (w.root / "empty").mkdir(), "no evaluation runs for dataset 'synth'", 1),
    ("table of a task not in the store", lambda w: ["table", "--results", str(w.store), "--task", "nope"],
     lambda w: ResultsStore(w.store).write(make_record("r1")), "no runs of task 'nope' on 'synth'", 1),
    ("csv into a folder", lambda w: ["results", "--results", str(w.store), "--csv", str(w.root)], None,
     f"is a folder; give a file path", 2),
    ("json into a folder", lambda w: ["eval", "lidarseg", "--dataroot", str(w.release), "--predictions",
                                      str(w.root), "--json", str(w.root)], None, "is a folder; give a file path", 2),
    ("misspelt card key", lambda w: RUN,
     lambda w: _edit_card(w, "methods", "scalr", lambda c: c["presets"]["tiny"].update(voxel_sze=0.3)),
     "scalr.yaml: preset 'tiny': unknown key `voxel_sze` (known keys:", 1),
    ("mistyped card value", lambda w: RUN,
     lambda w: _edit_card(w, "methods", "scalr", lambda c: c["presets"]["tiny"].update(lr="fast")),
     "scalr.yaml: preset 'tiny': key `lr`: Input should be a valid number", 1),
    ("nested card key", lambda w: ["run", "--method", "lima", "--protocol", "linear_probe"],
     lambda w: _edit_card(w, "methods", "lima", lambda c: c["presets"]["tiny"]["cross_sequence"].update(queu=1)),
     "unknown key `cross_sequence.queu` (known keys: anchors, per_frame, queue", 1),
    ("card not YAML", lambda w: RUN, lambda w: (w.cards / "methods" / "scalr.yaml").write_text("name: [scalr"),
     "scalr.yaml: not valid YAML", 1),
    ("card name differs from file", lambda w: RUN,
     lambda w: _edit_card(w, "methods", "scalr", lambda c: c.update(name="scalr2")), "make them equal", 1),
    ("misspelt task argument", lambda w: RUN,
     lambda w: _edit_card(w, "protocols", "linear_probe", lambda c: c["presets"]["tiny"]["task"].update(pts=1)),
     "linear_probe.yaml: preset 'tiny': task 'lidar_semseg': unknown key `pts`", 1),
    ("checkpoint missing", lambda w: [*RUN, "--dataroot", str(w.release), "--checkpoint", str(w.root / "no.pt")],
     None, "no.pt: no such file", 1),
    ("checkpoint empty", lambda w: [*RUN, "--dataroot", str(w.release), "--checkpoint", str(w.root / "empty.pt")],
     lambda w: (w.root / "empty.pt").write_bytes(b""), "empty.pt: checkpoint file is empty", 1),
    ("checkpoint truncated", lambda w: [*RUN, "--dataroot", str(w.release), "--checkpoint", str(w.root / "cut.pt")],
     lambda w: (w.root / "cut.pt").write_bytes(Path(_checkpoint(w, "full.pt", {"x": torch.zeros(1000)})).read_bytes()[:500]),
     "cut.pt: not a readable torch checkpoint (truncated or damaged", 1),
    ("checkpoint in the old format", lambda w: [*RUN, "--dataroot", str(w.release), "--checkpoint",
                                                _checkpoint(w, "old.pt", {"encoder": {}, "encoder_config": {}})],
     None, "old single-encoder format (key `encoder`); convert it with `bench3d convert-checkpoint", 1),
    ("checkpoint of another method", lambda w: [*RUN, "--dataroot", str(w.release), "--checkpoint", _checkpoint(
        w, "slidr.pt", {"method": "slidr", "backbones": {"lidar": {}}, "configs": {"lidar": _lidar_config()}})],
     None, "holds a 'slidr' pretraining, but method 'scalr' was requested", 1),
    ("checkpoint without a record", lambda w: [*RUN, "--dataroot", str(w.release), "--results", str(w.store),
                                               "--checkpoint", _checkpoint(w, "mine.pt", {
                                                   "method": "scalr", "backbones": {"lidar": {}},
                                                   "configs": {"lidar": _lidar_config()}})],
     None, "pass --unrecorded-checkpoint to use it anyway", 1),
    ("checkpoint for two methods", lambda w: [*RUN, "--method", "lima", "--checkpoint", str(w.root / "x.pt")], None,
     "--checkpoint names one method's checkpoint", 1),
    ("convert onto an existing file", lambda w: ["convert-checkpoint", _checkpoint(w, "a.pt", {}),
                                                 _checkpoint(w, "b.pt", {})], None, "b.pt exists; choose a new path", 1),
    ("dataroot missing", lambda w: [*RAND, "--dataroot", str(w.root / "nothing")], None, "dataroot does not exist", 1),
    ("scene record without a name", lambda w: [*RAND, "--dataroot", _broken_release(w, _drop_scene_name)], None,
     "scene.json: record 0 (token", 1),
    ("table file not JSON", lambda w: [*RAND, "--dataroot", _broken_release(
        w, lambda t: (t / "sample.json").write_text("[{"))], None, "sample.json: is not valid JSON", 1),
    ("frames for a single-frame method", lambda w: ["efficiency", "--method", "scalr", "--frames", "1,2",
                                                    "--dataroot", str(w.release)], None, "is single-frame", 1),
    ("frames not integers", lambda w: ["efficiency", "--frames", "a,b"], None, "give integers like 1,2,4,6,8", 2),
    ("unknown ablation variant", lambda w: ["ablate", "--variant", "-teleport", "--dataroot", str(w.release)], None,
     "unknown ablation variant(s) ['-teleport']", 1),
    ("ablation of a method without components", lambda w: ["ablate", "--method", "scalr",
                                                            "--dataroot", str(w.release)], None, "declares no components", 1),
    ("compare a missing store", lambda w: ["results", "--compare", str(w.root / "a"), str(w.root / "b")], None,
     "is not a results store (no such folder)", 1),
    ("check an unknown method", lambda w: ["check-method", "nope"], None, "unknown method 'nope'", 1),
    ("pretrain a method without pretraining", lambda w: ["pretrain", "--method", "random", "--dataroot",
                                                         str(w.release)], None, "has no pretraining", 1),
    ("missing required option", lambda w: ["run", "--protocol", "linear_probe"], None, "Missing option '--method'", 2),
    ("sync-bn on cpu", lambda w: [*RUN, "--sync-bn", "--dataroot", str(w.release), "--results", str(w.store)], None,
     "--sync-bn converts BatchNorm to SyncBatchNorm, which runs on CUDA only; drop it on CPU", 1),
    ("grad-accum 0", lambda w: [*RUN, "--grad-accum", "0"], None, "--grad-accum", 2),
]


@pytest.fixture()
def world(harness_release: Path, short_cards: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    cards = tmp_path / "cards"
    shutil.copytree(short_cards, cards)
    monkeypatch.chdir(tmp_path)  # any default path (results/, reports/) lands here
    w = World(tmp_path, harness_release, cards, tmp_path / "store")
    with using_cards(cards):
        yield w


@pytest.mark.parametrize(("argv", "setup", "message", "code"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_one_line(world: World, capsys: pytest.CaptureFixture, argv, setup, message: str,
                               code: int) -> None:
    if setup is not None:
        setup(world)
    args = argv(world)  # may write the bad input itself
    before = {p for p in world.root.rglob("*") if "cards" not in p.parts}
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    err = capsys.readouterr().err.strip()
    assert exit_info.value.code == code, err
    assert err.count("\n") == 0 and err.startswith("error: "), err  # one line
    assert message in err and "Traceback" not in err
    created = {p for p in world.root.rglob("*") if "cards" not in p.parts} - before
    assert not [p for p in created if p.is_file() and p.suffix in {".json", ".pt", ".md", ".csv"}
                or ".tmp." in p.name], created  # no partial file


def test_the_table_has_at_least_30_cases() -> None:
    assert len(CASES) >= 30 and len({c[0] for c in CASES}) == len(CASES)


def test_verbose_shows_the_traceback(world: World, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit):
        main(["-v", *RUN, "--dataroot", str(world.root / "nothing")])
    err = capsys.readouterr().err
    assert "Traceback" in err and err.strip().splitlines()[-1].startswith("error: ")
