"""Pretraining checkpoints: `{"format", "method", "config", "backbones": {name: state}, "configs": {name: config},
"heads": state}`. Downstream loads one named backbone strictly; nothing falls back to random weights.

Checkpoints written before the backbone contract held one `"encoder"`; they are refused with the command
that converts them (`bench3d convert-checkpoint OLD NEW`), never loaded by guessing.
"""

from __future__ import annotations

import logging
import pickle
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import torch
from torch import nn

from bench3d.engine.trainer import save_atomic
from bench3d.errors import ConfigError
from bench3d.models.backbone import Backbone, config_from_record

log = logging.getLogger(__name__)

CHECKPOINT_FORMAT = "bench3d-backbones/1"
LEGACY_BACKBONE_NAME = "lidar"  # the single encoder of the old format was always the LiDAR backbone


def save_checkpoint(path: Path, method: str, config: dict[str, Any], backbones: dict[str, Backbone],
                    heads: nn.Module) -> None:
    save_atomic({"format": CHECKPOINT_FORMAT, "method": method, "config": config,
                 "backbones": {name: b.state_dict() for name, b in backbones.items()},
                 "configs": {name: b.config.to_record() for name, b in backbones.items()},
                 "heads": heads.state_dict()}, path)


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """The checkpoint's contents, after checking it is one; the old single-encoder format gets the fix."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"checkpoint {path} not found")
    ckpt = _load(path)
    if isinstance(ckpt, dict) and "encoder" in ckpt and "backbones" not in ckpt:
        raise ConfigError(f"{path}: checkpoint in the old single-encoder format (key `encoder`); convert it with "
                          f"`bench3d convert-checkpoint {path} NEW.pt` and load NEW.pt")
    if not isinstance(ckpt, dict) or not isinstance(ckpt.get("backbones"), dict) or "configs" not in ckpt:
        raise ConfigError(f"{path}: not a bench3d pretraining checkpoint (no `backbones`/`configs` entries)")
    return ckpt


def _load(path: Path) -> Any:
    if path.stat().st_size == 0:
        raise ConfigError(f"{path}: checkpoint file is empty (an interrupted copy?); copy it again or pretrain again")
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except (EOFError, RuntimeError, OSError, ValueError, pickle.UnpicklingError) as exc:
        raise ConfigError(f"{path}: not a readable torch checkpoint (truncated or damaged: "
                          f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}); copy it again or "
                          "pretrain again") from None


def load_backbone_state(backbone: Backbone, checkpoint: str | Path, name: str, allowed: list[str] | None = None,
                        contents: dict[str, Any] | None = None) -> None:
    """Load backbone `name` of a checkpoint strictly: same config, no missing or unexpected keys except
    those matching the `allowed` globs (a card's `checkpoint_key_exceptions`). `contents`: the checkpoint as
    `read_checkpoint(checkpoint)` returned it, when the caller has read it already."""
    path = Path(checkpoint)
    ckpt = read_checkpoint(path) if contents is None else contents
    if name not in ckpt["backbones"]:
        raise ConfigError(f"{path}: no backbone {name!r}; it holds {sorted(ckpt['backbones'])}")
    stored = config_from_record(ckpt["configs"][name], f"{path} configs.{name}")
    if stored != backbone.config:
        raise ConfigError(f"{path}: backbone {name!r} was pretrained as {stored.to_record()} but downstream builds "
                          f"{backbone.config.to_record()}; use the method card and preset it was pretrained with")
    state = ckpt["backbones"][name]
    expected = backbone.state_dict()
    ok = lambda k: any(fnmatch(k, pat) for pat in allowed or [])  # noqa: E731
    missing = [k for k in expected if k not in state and not ok(k)]
    unexpected = [k for k in state if k not in expected and not ok(k)]
    if missing or unexpected:
        raise ConfigError(f"{path}: backbone {name!r} weights do not match: missing keys {missing[:10]}"
                          f"{' ...' if len(missing) > 10 else ''}, unexpected keys {unexpected[:10]} "
                          "(list allowed differences in the method card's `checkpoint_key_exceptions`)")
    wrong = [k for k in state if k in expected and state[k].shape != expected[k].shape]
    if wrong:
        raise ConfigError(f"{path}: shape mismatch for {wrong[:10]}")
    # Excepted keys absent from the file keep the backbone's seeded init; that is what the card allows.
    merged = {**expected, **{k: v for k, v in state.items() if k in expected}}
    backbone.load_state_dict(merged, strict=True)
    log.info("loaded backbone %r from %s", name, path)


def convert_legacy_checkpoint(src: str | Path, dst: str | Path) -> Path:
    """Rewrite an old `{"encoder", "encoder_config"}` checkpoint in the backbones format (never in place)."""
    src, dst = Path(src), Path(dst)
    if dst.exists():
        raise ConfigError(f"{dst} exists; choose a new path (a checkpoint is never overwritten)")
    if not src.is_file():
        raise ConfigError(f"checkpoint {src} not found")
    old = _load(src)
    if not isinstance(old, dict) or "encoder" not in old or "encoder_config" not in old:
        raise ConfigError(f"{src}: not an old single-encoder checkpoint (needs `encoder` and `encoder_config`)")
    record = {"type": "lidar_minkunet", **old["encoder_config"]}
    config_from_record(record, f"{src} encoder_config")  # validates before anything is written
    save_atomic({"format": CHECKPOINT_FORMAT, "method": old.get("method"), "config": old.get("config"),
                 "backbones": {LEGACY_BACKBONE_NAME: old["encoder"]}, "configs": {LEGACY_BACKBONE_NAME: record},
                 "heads": old.get("heads", {})}, dst)
    return dst
