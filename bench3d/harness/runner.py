"""The runner: executes pretraining and evaluation specs, skips finished ids, resumes killed runs.

Layout under the results store root:
  <run_id>.json                  finished run records (the store)
  checkpoints/<run_id>.pt        pretraining checkpoints (run id of the pretraining spec)
  checkpoints/<run_id>.pt.state  resumable state of a pretraining (removed once its record is published)
  checkpoints/<run_id>.lock      held while a process pretrains it; others wait, then use the checkpoint
  work/<run_id>/state.pt         resumable state of an unfinished evaluation (removed once its record is)
  work/<run_id>.lock             held while a process runs that evaluation; a second one waits
  weights/<run_id>.pt            the trained downstream model of a protocol with `keep_weights: true` (or `run --keep-weights`)

A run is produced once however many processes ask for it, and a kill at any moment — including between
the last checkpoint and the record — resumes without retraining a finished epoch.

Under torchrun every rank runs the runner in lockstep: rank 0 decides (is a run finished?) and the others
follow its answer, rank 0 alone takes the locks, evaluates and writes checkpoints and records, and a barrier
closes every run so no rank reads a record before it exists.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from bench3d.data.reader import Reader
from bench3d.datasets import DatasetSpec, resolve_dataset
from bench3d.engine.device import resolve_device
from bench3d.engine.distributed import from_environment
from bench3d.engine.trainer import save_atomic
from bench3d.engine.numerics import configure_numerics, numerics
from bench3d.engine.seeding import seed_everything
from bench3d.errors import ConfigError, DataError
from bench3d.harness.checkpoints import user_checkpoint, verify_checkpoint
from bench3d.harness.bev_teachers import build_bev_teacher, teacher_reference
from bench3d.harness.label_split import label_split
from bench3d.harness.maintenance import check_store, repair_store
from bench3d.harness.matrix import backbone_for_task
from bench3d.harness.specs import CheckpointRef, EvalSpec, PretrainSpec, run_id_of
from bench3d.methods import MethodAdapter, PretrainContext, build_method, pretrain_state_path
from bench3d.protocols import ResolvedProtocol, resolve_protocol, train_downstream
from bench3d.results import ResultsStore, RunRecord
from bench3d.results.locks import StoreLock
from bench3d.results.provenance import collect, config_hash, file_sha256, now_iso

log = logging.getLogger(__name__)

SUBSAMPLE_SEED = 0  # which points a CPU preset keeps is a property of the data, not of the run's seed
EpochCallback = Callable[[str, int, int, dict[str, float]], None]  # (run id, epoch, epochs, losses)


class Runner:
    def __init__(self, store: ResultsStore | None = None, device: str = "cpu", dataroot: str | Path | None = None,
                 on_epoch: EpochCallback | None = None, amp: str = "off", workers: int = 0,
                 threads: int | None = None, grad_accum: int = 1, sync_bn: bool = False,
                 keep_weights: bool = False, dataroots: dict[str, str | Path | None] | None = None) -> None:
        self.store = store or ResultsStore()
        self.keep_weights = keep_weights  # keep every run's trained model (weights/<run id>.pt), not only the card's
        self.workers = workers  # DataLoader workers that prepare pretraining samples
        # torch threads of the runs (they change numbers: part of the run id); set when a run starts
        self.threads = threads or torch.get_num_threads()
        # Under torchrun: the process group, this rank's share of each step and its device (cuda:LOCAL_RANK).
        self.parallel, self.device = from_environment(resolve_device(device), grad_accum, sync_bn)
        configure_numerics(self.device, amp)  # type: ignore[arg-type]
        self.store.ensure_writable()
        if self.parallel.is_main:
            repair_store(self.store, check_store(self.store, scan_records=False))  # dead processes' leftovers
        self.parallel.barrier()
        self.dataroot = dataroot
        # Roots of other datasets than the one `dataroot` is for (a cross-dataset run's pretraining dataset);
        # a name mapped to None uses that dataset's default root.
        self.dataroots = dict(dataroots or {})
        self.on_epoch = on_epoch
        self._readers: dict[str, Reader] = {}
        self._samples: dict[tuple[str, str, str, tuple[str, ...], bool], Sequence[Any]] = {}

    # ---- shared state ----------------------------------------------------------------------------
    def dataset(self, name: str) -> DatasetSpec:
        return resolve_dataset(name, self.dataroots[name] if name in self.dataroots else self.dataroot)

    def reader(self, ds: DatasetSpec) -> Reader:
        key = f"{ds.name}:{ds.dataroot}"
        if key not in self._readers:
            self._readers[key] = ds.open_reader()
        return self._readers[key]

    def split_tokens(self, ds: DatasetSpec, split: str) -> list[str]:
        names = ds.split_scenes(split)
        reader = self.reader(ds)
        if ds.synthetic:  # a small synthetic release holds a subset of the split's scene names
            present = {seq.name for seq in reader.sequences()}
            names = [n for n in names if n in present]
            if not names:
                raise DataError(ds.dataroot, f"no scene of split {split!r} in this release",
                                "generate more scenes (bench3d synth --scenes 10)")
        seqs = reader.sequences(names)  # a real release must hold every scene of the split
        return [tok for seq in seqs for tok in seq.sample_tokens]

    def samples(self, ds: DatasetSpec, protocol: ResolvedProtocol, tokens: list[str], train: bool) -> Sequence[Any]:
        """The task's samples of `tokens` (a sequence that reads each when indexed), shared by a matrix's runs."""
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

    def numerics(self) -> dict[str, Any]:
        split = self.parallel.run_config()  # how each batch is split changes numbers; who runs the parts does not
        return {**numerics(self.device, self.threads), **({"parallel": split} if split else {})}

    def _lock(self, path: Path, what: str) -> contextlib.AbstractContextManager:
        return StoreLock(path, what) if self.parallel.is_main else contextlib.nullcontext()

    def _has(self, run_id: str) -> bool:
        """Whether `run_id` is finished, as rank 0 sees it (every rank must take the same branch)."""
        return self.parallel.agree(self.store.has(run_id))

    # ---- pretraining ---------------------------------------------------------------------------------
    def _pretraining(self, spec: PretrainSpec, create_teacher: bool = True
                     ) -> tuple[DatasetSpec, MethodAdapter, list[str], dict[str, Any], str | None]:
        ds = self.dataset(spec.dataset)
        adapter = build_method(spec.method, spec.preset, components=dict(spec.components),
                               teacher_checkpoint=spec.teacher_checkpoint, overrides=dict(spec.settings) or None,
                               synthetic_data=ds.synthetic)
        if not adapter.needs_pretraining:
            raise ConfigError(f"method {spec.method!r} has no pretraining (its card says `pretrains: []`); "
                              "run a protocol against it directly")
        tokens = self.split_tokens(ds, ds.train_split)
        resolved = spec.resolve(adapter, ds, config_hash({"tokens": tokens}), self.numerics())
        request = adapter.bev_teacher_request()
        if request is not None:  # the teacher's identity joins the run id; made first when `create_teacher`
            teacher = teacher_reference(self, request, spec.dataset, spec.preset, create_teacher)
            if teacher is None:
                return ds, adapter, tokens, resolved, None
            resolved["bev_teacher"] = teacher
        return ds, adapter, tokens, resolved, run_id_of(resolved)

    def pretraining_id(self, spec: PretrainSpec) -> str | None:
        """The run id of a pretraining, without making anything (None: its teacher does not exist yet)."""
        return self._pretraining(spec, create_teacher=False)[-1]

    def pretrain(self, spec: PretrainSpec) -> tuple[str, Path]:
        """Run id and checkpoint of a pretraining; produced once, however many processes ask at once."""
        ds, adapter, tokens, resolved, made = self._pretraining(spec)
        assert made is not None  # the teacher was created
        run_id = made
        ckpt = self.checkpoint_path(run_id)
        if self._has(run_id):
            return run_id, ckpt
        with self._lock(ckpt.with_suffix(".lock"), f"pretraining {run_id} ({spec.method})"):
            if self._has(run_id):  # another process finished it while we waited
                return run_id, ckpt
            torch.set_num_threads(self.threads)
            started, t0 = now_iso(), time.perf_counter()
            ctx = PretrainContext(reader=self.reader(ds), sample_tokens=tokens, device=self.device, seed=spec.seed,
                                  workers=self.workers, parallel=self.parallel)
            request = adapter.bev_teacher_request()
            if request is not None:  # `_pretraining` made it and put its identity in `resolved`
                ctx.bev_teacher = build_bev_teacher(self, request, resolved["bev_teacher"], spec.dataset, spec.preset)
            summary = adapter.pretrain(ctx, ckpt, self._epoch_cb(run_id, adapter.config.epochs))
            earlier = summary.pop("earlier_wall_s")
            if self.parallel.is_main:
                record = RunRecord(
                    run_id=run_id, kind="pretrain", method=spec.method, checkpoint=None, dataset=ds.name,
                    task="pretrain", seed=spec.seed, pretrain_seed=spec.seed, preset=spec.preset, metrics=summary,
                    provenance=collect(resolved_config=resolved, device=self.device,
                                       wall_time_s=earlier + time.perf_counter() - t0, started_at=started,
                                       checkpoint_sha256=file_sha256(ckpt), dataset_version=ds.version,
                                       resumes=len(summary["segment_starts"]) - 1,
                                       parallel=self.parallel.provenance()),
                )
                self.store.write(record)
                pretrain_state_path(ckpt).unlink(missing_ok=True)  # only now: the record is published
            self.parallel.barrier()
        return run_id, ckpt

    # ---- evaluation ---------------------------------------------------------------------------------
    def checkpoint_for(self, adapter: MethodAdapter, spec: EvalSpec, backbone: str,
                       pretrain: bool = True) -> tuple[CheckpointRef | None, Path | None]:
        """The spec's checkpoint and its sha256 from its pretraining record (pretrained first if needed and
        `pretrain`), or the user's `--checkpoint`; (None, None) for a method that pretrains nothing or, with
        `pretrain=False`, an unfinished pretraining. Its bytes are verified only when it is used."""
        if spec.checkpoint is not None:
            path = Path(spec.checkpoint)
            return user_checkpoint(path, self.store, spec.method, backbone, spec.unrecorded_checkpoint), path
        if not adapter.needs_pretraining:
            return None, None
        if pretrain:
            run_id, path = self.pretrain(spec.pretrain_spec())
        else:
            found = self.pretraining_id(spec.pretrain_spec())
            if found is None or not self.store.has(found):
                return None, None
            run_id = found
            path = self.checkpoint_path(run_id)
        sha = self.store.read(run_id).provenance.checkpoint_sha256 or ""
        return CheckpointRef(run_id, sha, "pretraining"), path

    def _plan(self, spec: EvalSpec) -> tuple[DatasetSpec, ResolvedProtocol, MethodAdapter, str, list[str], str]:
        """(dataset, protocol, adapter, backbone name, train tokens, split hash) of an evaluation."""
        ds = self.dataset(spec.dataset)
        protocol = resolve_protocol(spec.protocol, spec.preset, self.keep_weights)
        # The teacher (`auto`) is the one of the pretraining data, which a transfer run does not train on.
        adapter = build_method(spec.method, spec.preset, components=dict(spec.components),
                               teacher_checkpoint=spec.teacher_checkpoint, overrides=dict(spec.settings) or None,
                               synthetic_data=self.dataset(spec.pretrain_dataset).synthetic)
        backbone_name = backbone_for_task(adapter, protocol)
        train_tokens, split_hash = label_split(self.reader(ds), ds, spec.fraction, spec.draw)
        return ds, protocol, adapter, backbone_name, train_tokens, split_hash

    def finished(self, spec: EvalSpec) -> RunRecord | None:
        """The record of `spec` if it is finished, found without training anything (a run whose pretraining is
        not finished is not finished either)."""
        ds, protocol, adapter, backbone_name, _, split_hash = self._plan(spec)
        ref, _ = self.checkpoint_for(adapter, spec, backbone_name, pretrain=False)
        if adapter.needs_pretraining and ref is None:
            return None
        run_id = run_id_of(spec.resolve(adapter, protocol, ds, ref, split_hash, backbone_name, self.numerics()))
        return self.store.read(run_id) if self.store.has(run_id) else None

    def evaluate(self, spec: EvalSpec) -> RunRecord:
        ds, protocol, adapter, backbone_name, train_tokens, split_hash = self._plan(spec)
        # The run id holds the checkpoint's sha256: pretraining (once, shared) comes before it.
        ref, ckpt = self.checkpoint_for(adapter, spec, backbone_name)
        resolved = spec.resolve(adapter, protocol, ds, ref, split_hash, backbone_name, self.numerics())
        run_id = run_id_of(resolved)
        if self._has(run_id):
            log.info("run %s already finished; skipped", run_id)
            return self.store.read(run_id)
        work = self.work_dir(run_id)
        with self._lock(work.with_suffix(".lock"), f"run {run_id}"):
            if self._has(run_id):  # another process finished it while we waited
                return self.store.read(run_id)
            if ref is not None and ref.source == "pretraining" and ckpt is not None:
                verify_checkpoint(ckpt, ref)  # before use: the bytes its record names
            record = self._evaluate_locked(spec, ds, protocol, adapter, backbone_name, ref, ckpt, resolved,
                                           run_id, train_tokens, split_hash, work)
            if record is not None:
                self.store.write(record)
                shutil.rmtree(work, ignore_errors=True)  # only now: the record is published
            self.parallel.barrier()
        return record if record is not None else self.store.read(run_id)

    def weights_path(self, run_id: str) -> Path:
        return self.store.root / "weights" / f"{run_id}.pt"

    def _keep_weights(self, run_id: str, spec: EvalSpec, protocol: ResolvedProtocol, backbone_name: str,
                      model: torch.nn.Module) -> dict[str, str]:
        """Save the trained downstream model (protocol card `keep_weights`); its file and sha256 for the record."""
        path = self.weights_path(run_id)
        save_atomic({"format": "bench3d-downstream-1", "run_id": run_id, "method": spec.method, "preset": spec.preset,
                     "protocol": protocol.card.name, "task": protocol.task.name, "task_args": protocol.task_args,
                     "backbone": backbone_name, "state_dict": model.state_dict()}, path)
        return {"file": str(path.relative_to(self.store.root)), "sha256": file_sha256(path)}

    def _evaluate_locked(self, spec: EvalSpec, ds: DatasetSpec, protocol: ResolvedProtocol, adapter: MethodAdapter,
                         backbone_name: str, ref: CheckpointRef | None, ckpt: Path | None, resolved: dict[str, Any],
                         run_id: str, train_tokens: list[str], split_hash: str, work: Path) -> RunRecord | None:
        """Train and evaluate (rank 0: the record; other ranks: None)."""
        card, task = protocol.card, protocol.task
        torch.set_num_threads(self.threads)
        started, t0 = now_iso(), time.perf_counter()
        pretrained = backbone_name in adapter.card.pretrains  # else a seeded init of a backbone it provides
        backbone = adapter.load_backbone(backbone_name, ckpt if pretrained else None, init_seed=spec.pretrain_seed)
        seed_everything(spec.seed)  # the head's init and everything downstream follow the run's seed
        model = task.build_model(backbone, ds).to(self.device)
        train = self.samples(ds, protocol, train_tokens, train=True)
        eval_split = ds.val_split if card.eval_split == "val" else ds.train_split
        evaluation = self.samples(ds, protocol, self.split_tokens(ds, eval_split), train=False)
        work.mkdir(parents=True, exist_ok=True)
        state = train_downstream(protocol, model, train, spec.seed, self.device, work / "state.pt",
                                 on_epoch_end=self._epoch_cb(run_id, protocol.schedule.epochs),
                                 parallel=self.parallel, workers=self.workers)
        if not self.parallel.is_main:  # same weights on every rank; rank 0 evaluates (DDP keeps its BN statistics)
            return None
        scores = task.evaluate(model, evaluation, self.device, ds)
        if task.score.name not in scores:
            raise RuntimeError(f"task {task.name!r} did not return its main score {task.score.name!r}")
        metrics = {**scores, "loss_history": state.history, "segment_starts": state.segments,
                   "train_frames": len(train), "eval_frames": len(evaluation)}
        if protocol.keep_weights:  # written before the record: a kill in between rewrites the same bytes
            metrics["weights"] = self._keep_weights(run_id, spec, protocol, backbone_name, model)
        return RunRecord(
            run_id=run_id, kind="evaluation", method=spec.method, checkpoint=ref.run_id if ref else None,
            protocol=card.name, protocol_version=card.version, dataset=ds.name, task=task.name,
            fraction=spec.fraction, draw=spec.draw, seed=spec.seed, pretrain_seed=spec.pretrain_seed,
            preset=spec.preset, score=task.score, metrics=metrics,
            provenance=collect(resolved_config=resolved, device=self.device,
                               wall_time_s=state.earlier_wall_s + time.perf_counter() - t0, started_at=started,
                               split_hash=split_hash, checkpoint_sha256=ref.sha256 if ref else None,
                               dataset_version=ds.version, resumes=state.resumes,
                               parallel=self.parallel.provenance()),
        )
