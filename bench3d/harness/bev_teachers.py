"""LiDAR BEV teachers (models/bev/teacher.py) built from what a method asks for (`BevTeacherRequest`):

- `lidar_det`: the supervised LiDAR detector of protocol `det3d_teacher` (or the request's), run through the
  runner like any evaluation — trained once on the pretraining split with full box labels, kept beside its
  own record, found again by run id; the teacher is its backbone, point pooling and BEV encoder.
- `lidar_ssl`: a LiDAR self-supervised method's pretrained backbone (pretrained through the runner if
  needed), its point features averaged into the det3d_teacher protocol's grid. No labels.
- `checkpoint`: a user's LiDAR BEV model in bench3d's downstream format (`weights/<run id>.pt`), strictly.

`teacher_reference` gives the identity that joins the pretraining's run id without building anything."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from bench3d.errors import ConfigError, DataError
from bench3d.harness.predictions import load_downstream_model
from bench3d.methods import build_method
from bench3d.methods.base import BevTeacherRequest
from bench3d.models.backbone import Backbone
from bench3d.models.bev.grid import BevGrid
from bench3d.protocols import resolve_protocol
from bench3d.results.provenance import file_sha256
from bench3d.tasks.bev_inputs import BevTaskArgs, lidar_bev

if TYPE_CHECKING:
    from bench3d.harness.runner import Runner
    from bench3d.harness.specs import EvalSpec, PretrainSpec


@dataclass
class LidarBevTeacher:
    """A frozen LiDAR backbone (+ optional BEV encoder) as a `BevTeacher`."""

    backbone: Backbone
    grid: BevGrid
    channels: int
    identity: str
    labels_used: str
    source: dict[str, str]
    encoder: Callable[[torch.Tensor], torch.Tensor] | None = None  # (1, C, nx, ny) -> (1, C', nx, ny)
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    @torch.no_grad()
    def __call__(self, points: torch.Tensor) -> torch.Tensor:
        bev = lidar_bev(self.backbone, self.grid, [points], self.device)[0]
        return bev if self.encoder is None else self.encoder(bev[None])[0]


def _detector_spec(request: BevTeacherRequest, dataset: str, preset: str) -> EvalSpec:
    from bench3d.harness.specs import EvalSpec

    return EvalSpec(request.method, request.protocol, dataset, 1.0, 0, 0, preset)


def _ssl_spec(request: BevTeacherRequest, dataset: str, preset: str) -> PretrainSpec:
    from bench3d.harness.specs import PretrainSpec

    return PretrainSpec(request.method, dataset, preset, 0)


def teacher_reference(runner: Runner, request: BevTeacherRequest, dataset: str, preset: str,
                      create: bool) -> dict[str, Any] | None:
    """{"kind", "run_id", "sha256", "labels"} of the teacher; None when it does not exist and `create` is off."""
    if request.kind == "lidar_det":
        spec = _detector_spec(request, dataset, preset)
        record = runner.evaluate(spec) if create else runner.finished(spec)
        if record is None:
            return None
        if "weights" not in record.metrics:
            raise ConfigError(f"protocol {request.protocol!r} keeps no weights (`keep_weights: true`), so it cannot "
                              "be a BEV teacher")
        labels = f"3D boxes of the {dataset} {runner.dataset(dataset).train_split} split"
        return {"kind": "lidar_det", "run_id": record.run_id, "sha256": record.metrics["weights"]["sha256"],
                "labels": labels}
    if request.kind == "lidar_ssl":
        spec = _ssl_spec(request, dataset, preset)
        if create:
            run_id, _ = runner.pretrain(spec)
        else:
            run_id = runner.pretraining_id(spec)
            if run_id is None or not runner.store.has(run_id):
                return None
        sha = runner.store.read(run_id).provenance.checkpoint_sha256 or ""
        return {"kind": "lidar_ssl", "run_id": run_id, "sha256": sha, "labels": "none"}
    if request.kind == "checkpoint":
        if request.path is None or not Path(request.path).is_file():
            raise DataError(Path(str(request.path)), "the teacher checkpoint does not exist",
                            "pass --teacher-checkpoint with a LiDAR BEV model (weights/<run id>.pt of a det3d run)")
        return {"kind": "checkpoint", "run_id": "", "sha256": file_sha256(Path(request.path)),
                "labels": "unknown (user checkpoint)", "file": str(request.path)}
    raise ConfigError(f"unknown BEV teacher kind {request.kind!r}; known: lidar_det, lidar_ssl, checkpoint")


def build_bev_teacher(runner: Runner, request: BevTeacherRequest, reference: dict[str, Any], dataset: str,
                      preset: str) -> LidarBevTeacher:
    """The teacher `reference` names, frozen, on the runner's device."""
    device = runner.device
    source = {k: str(v) for k, v in reference.items()}
    if reference["kind"] == "lidar_ssl":
        adapter = build_method(request.method, preset)
        backbone = adapter.load_backbone("lidar", runner.checkpoint_path(reference["run_id"])).to(device).eval()
        grid = _protocol_args(request.protocol, preset).grid()
        return LidarBevTeacher(backbone, grid, backbone.out_channels, f"lidar_ssl:{reference['sha256']}", "none",
                               source, device=device)
    path = (runner.weights_path(reference["run_id"]) if reference["kind"] == "lidar_det"
            else Path(reference["file"]))
    if file_sha256(path) != reference["sha256"]:
        raise DataError(path, "the teacher's weights differ from the sha256 its record holds",
                        "delete the file and its run record, then rerun")
    # The run record says which preset made a lidar_det teacher (older files lack the key).
    preset_of = runner.store.read(reference["run_id"]).preset if reference["kind"] == "lidar_det" else None
    task, model, saved = load_downstream_model(path, runner.dataset(dataset), preset_of)
    args = task.args
    if saved.get("backbone") != "lidar" or not isinstance(args, BevTaskArgs):
        raise DataError(path, "is not a LiDAR BEV model in bench3d's downstream format (a det3d or bev_seg model "
                              "with a `lidar` backbone)", "keep one with `bench3d run --keep-weights`")
    model = model.to(device)
    stack = model.head.stack
    return LidarBevTeacher(model.backbone, args.grid(), stack.out_channels, f"{reference['kind']}:{reference['sha256']}",
                           reference["labels"], source, encoder=stack.bev, device=device)


def _protocol_args(protocol: str, preset: str) -> BevTaskArgs:
    args = resolve_protocol(protocol, preset).task.args
    assert isinstance(args, BevTaskArgs)
    return args


def attach_mock_teacher(adapter: Any, ctx: Any, preset: str = "tiny", seed: int = 0) -> None:
    """For mechanics checks only (mock runs, device checks): if the method wants a BEV teacher, give it a
    seeded, untrained LiDAR backbone + BEV encoder on the det3d_teacher grid, labelled as a mock in its
    identity and `labels_used` — never used by the runner, whose teachers are trained and recorded."""
    request = adapter.bev_teacher_request()
    if request is None:
        return
    from bench3d.models.bev.encoder import BevEncoder

    args = _protocol_args(request.protocol, preset)
    torch.manual_seed(seed)
    backbone = build_method("random", preset).load_backbone("lidar", None, init_seed=seed).to(ctx.device).eval()
    encoder = BevEncoder(backbone.out_channels, args.bev_channels, args.bev_channels).to(ctx.device).eval()
    ctx.bev_teacher = LidarBevTeacher(backbone, args.grid(), args.bev_channels, f"mock:{seed}", "none (mock teacher)",
                                      {"kind": "mock"}, encoder=encoder, device=ctx.device)
