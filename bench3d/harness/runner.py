"""The runner: executes pretraining and evaluation specs, skips finished ids, resumes killed runs.

Layout under the results store root:
  <run_id>.json                  finished run records (the store)
  checkpoints/<run_id>.pt        pretraining checkpoints (run id of the pretraining spec)
  work/<run_id>/state.pt         resumable training state of an unfinished run (deleted when it finishes)
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


from bench3d.data.reader import Reader
from bench3d.data.nuscenes.tables import split_scene_names
from bench3d.datasets import DatasetSpec, resolve_dataset
from bench3d.errors import DataError
from bench3d.harness.label_split import label_split
from bench3d.engine.device import resolve_device
from bench3d.engine.seeding import seed_everything
from bench3d.harness.matrix import backbone_for_task
from bench3d.harness.specs import EvalSpec, PretrainSpec, run_id_of
from bench3d.methods import MethodAdapter, PretrainContext, build_method
from bench3d.protocols import ResolvedProtocol, resolve_protocol, train_downstream
from bench3d.results import ResultsStore, RunRecord
from bench3d.results.provenance import collect, config_hash, file_sha256, now_iso

log = logging.getLogger(__name__)

SUBSAMPLE_SEED = 0  # which points a CPU preset keeps is a property of the data, not of the run's seed
EpochCallback = Callable[[str, int, int, dict[str, float]], None]  # (run id, epoch, epochs, losses)


class Runner:
    def __init__(self, store: ResultsStore | None = None, device: str = "cpu", dataroot: str | Path | None = None,
                 on_epoch: EpochCallback | None = None) -> None:
        self.store = store or ResultsStore()
        self.device = resolve_device(device)
        self.dataroot = dataroot
        self.on_epoch = on_epoch
        self._readers: dict[str, Reader] = {}
        self._samples: dict[tuple[str, str, str, tuple[str, ...], bool], list[Any]] = {}

    # ---- shared state ----------------------------------------------------------------------------
    def dataset(self, name: str) -> DatasetSpec:
        return resolve_dataset(name, self.dataroot)

    def reader(self, ds: DatasetSpec) -> Reader:
        if ds.name not in self._readers:
            self._readers[ds.name] = ds.open_reader()
        return self._readers[ds.name]

    def split_tokens(self, ds: DatasetSpec, split: str) -> list[str]:
        names = split_scene_names(ds.dataroot, ds.version, split)
        reader = self.reader(ds)
        if ds.synthetic:  # a small synthetic release holds a subset of the mini scene names
            present = {seq.name for seq in reader.sequences()}
            names = [n for n in names if n in present]
            if not names:
                raise DataError(ds.dataroot / ds.version / "scene.json", f"no scene of split {split!r} in this release",
                                "generate more scenes (bench3d synth --scenes 10)")
        seqs = reader.sequences(names)  # a real release must hold every scene of the split
        return [tok for seq in seqs for tok in seq.sample_tokens]

    def samples(self, ds: DatasetSpec, protocol: ResolvedProtocol, tokens: list[str], train: bool) -> list[Any]:
        """The task's samples of `tokens`, kept while the runner lives (runs of one matrix share them)."""
        task = protocol.task
        key = (ds.name, task.name, config_hash(protocol.task_args), tuple(tokens), train)
        if key not in self._samples:
            self._samples[key] = task.load(self.reader(ds), ds, tokens, train, SUBSAMPLE_SEED)
        return self._samples[key]

    def checkpoint_path(self, run_id: str) -> Path:
        return self.store.root / "checkpoints" / f"{run_id}.pt"

    def work_dir(self, run_id: str) -> Path:
        return self.store.root / "work" / run_id

    def _epoch_cb(self, run_id: str, epochs: int) -> Callable[[int, dict[str, float]], None] | None:
        if self.on_epoch is None:
            return None
        return lambda epoch, losses: self.on_epoch(run_id, epoch + 1, epochs, losses)

    # ---- pretraining ---------------------------------------------------------------------------------
    def pretrain(self, spec: PretrainSpec) -> tuple[str, Path]:
        ds = self.dataset(spec.dataset)
        adapter = build_method(spec.method, spec.preset, components=dict(spec.components),
                               teacher_checkpoint=spec.teacher_checkpoint)
        resolved = spec.resolve(adapter, ds)
        run_id = run_id_of(resolved)
        ckpt = self.checkpoint_path(run_id)
        if self.store.has(run_id) and ckpt.is_file():
            log.info("pretraining %s (%s) already finished", run_id, spec.method)
            return run_id, ckpt
        started, t0 = now_iso(), time.perf_counter()
        ctx = PretrainContext(reader=self.reader(ds), sample_tokens=self.split_tokens(ds, ds.train_split),
                              device=self.device, seed=spec.seed)
        ckpt.parent.mkdir(parents=True, exist_ok=True)
        summary = adapter.pretrain(ctx, ckpt, self._epoch_cb(run_id, adapter.config.epochs))
        record = RunRecord(
            run_id=run_id, kind="pretrain", method=spec.method, checkpoint=None, dataset=ds.name, task="pretrain",
            seed=spec.seed, pretrain_seed=spec.seed, preset=spec.preset, metrics=summary,
            provenance=collect(resolved_config=resolved, device=self.device, wall_time_s=time.perf_counter() - t0,
                               started_at=started, checkpoint_sha256=file_sha256(ckpt), dataset_version=ds.version),
        )
        self.store.write(record)
        return run_id, ckpt

    # ---- evaluation ---------------------------------------------------------------------------------
    def checkpoint_for(self, adapter: MethodAdapter, spec: EvalSpec) -> tuple[str | None, Path | None]:
        """(pretraining run id, checkpoint) of the spec's method and pretraining seed; pretrains if needed."""
        if not adapter.needs_pretraining:
            return None, None
        return self.pretrain(spec.pretrain_spec())

    def evaluate(self, spec: EvalSpec) -> RunRecord:
        ds = self.dataset(spec.dataset)
        protocol = resolve_protocol(spec.protocol, spec.preset)
        card, task = protocol.card, protocol.task
        adapter = build_method(spec.method, spec.preset, components=dict(spec.components),
                               teacher_checkpoint=spec.teacher_checkpoint)
        backbone_name = backbone_for_task(adapter, protocol)
        train_tokens, split_hash = label_split(self.reader(ds), ds, spec.fraction, spec.draw)
        # The run id needs the checkpoint id; computing it does not train anything.
        ckpt_id = run_id_of(spec.pretrain_spec().resolve(adapter, ds)) if adapter.needs_pretraining else None
        resolved = spec.resolve(adapter, protocol, ds, ckpt_id, split_hash, backbone_name)
        run_id = run_id_of(resolved)
        if self.store.has(run_id):
            log.info("run %s already finished; skipped", run_id)
            return self.store.read(run_id)
        ckpt_id, ckpt = self.checkpoint_for(adapter, spec)
        started, t0 = now_iso(), time.perf_counter()
        pretrained = backbone_name in adapter.card.pretrains  # else a seeded init of a backbone it provides
        backbone = adapter.load_backbone(backbone_name, ckpt if pretrained else None, init_seed=spec.pretrain_seed)
        seed_everything(spec.seed)  # the head's init and everything downstream follow the run's seed
        model = task.build_model(backbone, ds).to(self.device)
        train = self.samples(ds, protocol, train_tokens, train=True)
        eval_split = ds.val_split if card.eval_split == "val" else ds.train_split
        evaluation = self.samples(ds, protocol, self.split_tokens(ds, eval_split), train=False)
        work = self.work_dir(run_id)
        work.mkdir(parents=True, exist_ok=True)
        history = train_downstream(protocol, model, train, spec.seed, self.device, work / "state.pt",
                                   on_epoch_end=self._epoch_cb(run_id, protocol.schedule.epochs))
        scores = task.evaluate(model, evaluation, self.device, ds)
        if task.score.name not in scores:
            raise RuntimeError(f"task {task.name!r} did not return its main score {task.score.name!r}")
        metrics = {**scores, "loss_history": history, "train_frames": len(train), "eval_frames": len(evaluation)}
        record = RunRecord(
            run_id=run_id, kind="evaluation", method=spec.method, checkpoint=ckpt_id, protocol=card.name,
            protocol_version=card.version, dataset=ds.name, task=task.name, fraction=spec.fraction, draw=spec.draw,
            seed=spec.seed, pretrain_seed=spec.pretrain_seed, preset=spec.preset, score=task.score, metrics=metrics,
            provenance=collect(resolved_config=resolved, device=self.device, wall_time_s=time.perf_counter() - t0,
                               started_at=started, split_hash=split_hash,
                               checkpoint_sha256=file_sha256(ckpt) if ckpt else None, dataset_version=ds.version),
        )
        self.store.write(record)
        shutil.rmtree(work, ignore_errors=True)
        return record
