"""Which checkpoint an evaluation loads, verified before use.

A suite checkpoint must match its pretraining record: the file's sha256 equals the record's, and the file
says it holds the requested method. A user's checkpoint is used under the pretraining record with the same
sha256 when the store has one, otherwise only with an explicit flag, and the run records it as such.
"""

from __future__ import annotations

from pathlib import Path

from bench3d.errors import ConfigError
from bench3d.harness.specs import CheckpointRef
from bench3d.models.checkpoint import read_checkpoint
from bench3d.results import ResultsStore
from bench3d.results.provenance import file_sha256


def verify_checkpoint(path: Path, ref: CheckpointRef) -> None:
    """Before use: the file's bytes are those its pretraining record names. (Its method and backbones are
    then what that record's run id stands for; the backbone is loaded strictly afterwards.)"""
    if not path.is_file():
        raise ConfigError(f"{path}: checkpoint of pretraining run {ref.run_id} is missing; move its record "
                          f"{ref.run_id}.json out of the store to pretrain again")
    sha = file_sha256(path)
    if sha != ref.sha256:
        raise ConfigError(f"{path}: sha256 {sha[:16]}… does not match its pretraining record {ref.run_id} "
                          f"({(ref.sha256 or 'none')[:16]}…); the file was replaced or damaged — restore it or move "
                          f"both away to pretrain again")


def check_contents(path: Path, method: str, backbone: str) -> None:
    ckpt = read_checkpoint(path)
    if ckpt.get("method") != method:
        raise ConfigError(f"{path}: holds a {ckpt.get('method')!r} pretraining, but method {method!r} was requested")
    if backbone not in ckpt["backbones"]:
        raise ConfigError(f"{path}: holds backbones {sorted(ckpt['backbones'])}, but {backbone!r} was requested")


def user_checkpoint(path: Path, store: ResultsStore, method: str, backbone: str,
                    allow_unrecorded: bool) -> CheckpointRef:
    """A checkpoint file the user names: tied to its pretraining record by sha256, or explicitly unrecorded."""
    if not path.is_file():
        raise ConfigError(f"--checkpoint {path}: no such file")
    sha = file_sha256(path)
    check_contents(path, method, backbone)
    for record in store.records():
        if record.kind == "pretrain" and record.provenance.checkpoint_sha256 == sha:
            if record.method != method:
                raise ConfigError(f"--checkpoint {path}: its record {record.run_id} is a {record.method!r} "
                                  f"pretraining, not {method!r}")
            return CheckpointRef(record.run_id, sha, "pretraining")
    if not allow_unrecorded:
        raise ConfigError(f"--checkpoint {path}: no pretraining record in {store.root} has its sha256 "
                          f"{sha[:16]}…; pass --unrecorded-checkpoint to use it anyway (the run records it as a "
                          "user checkpoint)")
    return CheckpointRef(None, sha, "user")
