"""The contracts between layers: typed cards, the backbone checkpoint format, task/backbone pairing, and
the linear probe's features (the same in training and in evaluation)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
import yaml

from _cards import using_cards
from bench3d.cards import method_names, protocol_names
from bench3d.errors import ConfigError
from bench3d.harness.runner import Runner
from bench3d.harness.specs import PretrainSpec
from bench3d.methods import build_method
from bench3d.models.checkpoint import convert_legacy_checkpoint
from bench3d.protocols import resolve_protocol
from bench3d.results import ResultsStore


def _edited_cards(src: Path, dst: Path, kind: str, name: str, edit) -> Path:
    shutil.copytree(src, dst)
    path = dst / kind / f"{name}.yaml"
    card = yaml.safe_load(path.read_text())
    edit(card)
    path.write_text(yaml.safe_dump(card))
    return dst


def test_every_shipped_preset_validates_against_its_schema() -> None:
    for name in method_names():
        for preset in build_method(name).card.presets:
            build_method(name, preset)
    for name in protocol_names():
        card = resolve_protocol(name, "tiny").card
        for preset in card.presets:
            assert resolve_protocol(name, preset).task.name == card.task_name


@pytest.mark.parametrize(("path", "value", "message"), [
    (("voxel_sze",), 0.3, r"unknown key `voxel_sze` \(known keys: .*voxel_size"),
    (("cross_sequence", "queu"), 10, r"unknown key `cross_sequence.queu` \(known keys: anchors, per_frame, queue"),
    (("lr",), "fast", r"key `lr`: Input should be a valid number"),
])
def test_a_misspelt_preset_key_in_a_user_card_names_card_preset_key_and_known_keys(
        short_cards: Path, tmp_path: Path, path: tuple[str, ...], value: object, message: str) -> None:
    def edit(card: dict) -> None:
        node = card["presets"]["tiny"]
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value

    root = _edited_cards(short_cards, tmp_path / "cards", "methods", "lima", edit)
    with using_cards(root), pytest.raises(ConfigError, match=rf"{tmp_path}/cards/methods/lima.yaml: preset 'tiny': {message}"):
        build_method("lima")


def test_a_misspelt_task_argument_names_card_preset_key_and_known_keys(short_cards: Path, tmp_path: Path) -> None:
    root = _edited_cards(short_cards, tmp_path / "cards", "protocols", "linear_probe",
                         lambda c: c["presets"]["tiny"]["task"].update(supervised_pts=10))
    with using_cards(root), pytest.raises(ConfigError, match=r"linear_probe.yaml: preset 'tiny': task 'lidar_semseg': "
                                                             r"unknown key `supervised_pts` \(known keys: .*supervised_points"):
        resolve_protocol("linear_probe", "tiny")


def test_old_single_encoder_checkpoint_is_refused_with_the_fix_and_converts(harness_release: Path, short_cards: Path,
                                                                           tmp_path: Path) -> None:
    _, ckpt = Runner(ResultsStore(tmp_path / "r"), "cpu", harness_release).pretrain(PretrainSpec("scalr", "synth"))
    new = torch.load(ckpt, weights_only=False)
    old = {"method": "scalr", "config": new["config"], "encoder": new["backbones"]["lidar"], "heads": new["heads"],
           "encoder_config": {k: v for k, v in new["configs"]["lidar"].items() if k != "type"}}
    legacy = tmp_path / "legacy.pt"
    torch.save(old, legacy)
    adapter = build_method("scalr")
    with pytest.raises(ConfigError, match=r"old single-encoder format.*bench3d convert-checkpoint"):
        adapter.load_backbone("lidar", legacy)
    converted = convert_legacy_checkpoint(legacy, tmp_path / "converted.pt")
    loaded, reference = adapter.load_backbone("lidar", converted), adapter.load_backbone("lidar", ckpt)
    assert all(torch.equal(a, b) for a, b in zip(loaded.state_dict().values(), reference.state_dict().values()))
    with pytest.raises(ConfigError, match="exists"):
        convert_legacy_checkpoint(legacy, converted)
    with pytest.raises(ConfigError, match=r"no backbone 'camera'; it holds \['lidar'\]"):
        from bench3d.models.checkpoint import load_backbone_state

        load_backbone_state(loaded, ckpt, "camera")
    coarse = build_method("scalr", overrides={"voxel_size": 0.5})
    with pytest.raises(ConfigError, match="was pretrained as .*voxel_size.*0.3.*downstream builds"):
        coarse.load_backbone("lidar", ckpt)


def test_random_init_is_seeded_by_the_pretraining_seed() -> None:
    adapter = build_method("random")
    a, b, c = (adapter.load_backbone("lidar", None, init_seed=s).state_dict() for s in (0, 0, 1))
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_linear_probe_features_in_training_equal_those_in_evaluation(harness_release: Path, short_cards: Path,
                                                                      tmp_path: Path) -> None:
    """The probe's head trains on a subset of points, but their features come from the whole cloud — the
    same computation evaluation runs. Under the old scheme (features of a subsampled cloud) they differ."""
    runner = Runner(ResultsStore(tmp_path / "r"), "cpu", harness_release)
    ds = runner.dataset("synth")
    protocol = resolve_protocol("linear_probe", "tiny")
    task = protocol.task
    token = runner.split_tokens(ds, ds.train_split)[0]
    (train,) = task.load(runner.reader(ds), ds, [token], train=True, seed=0)
    (full,) = task.load(runner.reader(ds), ds, [token], train=False, seed=0)
    assert train.supervised is not None and len(train.supervised) == 6000 < len(full.points)
    model = task.build_model(build_method("random").load_backbone("lidar", None), ds).eval()
    with torch.no_grad():
        (head_input,) = task.head_inputs(model, [train], torch.device("cpu"), None)
        evaluation = model.backbone([full.points])[0][train.supervised]
        subsampled = model.backbone([full.points[train.supervised]])[0]
    assert torch.equal(head_input[0], evaluation)
    assert torch.equal(head_input[1], full.labels[train.supervised])
    cosine = torch.nn.functional.cosine_similarity(subsampled, evaluation, dim=1).mean()
    assert cosine < 0.999  # the shift the old scheme had; the equality above is not vacuous
