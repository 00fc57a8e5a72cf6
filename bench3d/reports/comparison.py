"""Write the comparison table of a results store as Markdown, LaTeX and CSV (one task at a time)."""

from __future__ import annotations

from pathlib import Path

from bench3d.reports.stats import score_of, summarise_runs
import pandas as pd

from bench3d.reports.rows import row_label
from bench3d.reports.table import TRANSFER_PREFIX, build_table
from bench3d.paths import write_text_atomic
from bench3d.results import ResultsStore
from bench3d.results.store import records_to_frame
from bench3d.tasks import registered_tasks


def write_comparison(store: str | Path | None, dataset: str, out_dir: Path, reference: list[str] | None = None,
                     task: str | None = None, stem: str = "table",
                     transfer: list[str] | None = None) -> tuple[list[Path], str]:
    """Table of the evaluation runs of `dataset` (and `task`; needed when the store holds several tasks),
    written as `<stem>.md`, `.tex`, `.csv` and `<stem>_runs.csv` in `out_dir`. `transfer`: other datasets whose
    runs of the task, pretrained on `dataset`, add columns (SemanticKITTI 1 %, Waymo 1 %)."""
    everything = ResultsStore(store).records()
    records = [r for r in everything if r.dataset == dataset and r.kind == "evaluation"
               and not r.provenance.resolved_config.get("pretrained_on")]
    tasks = sorted({r.task for r in records})
    if not records:
        raise ValueError(f"no evaluation runs for dataset {dataset!r} in {store or 'results/'}; run `bench3d run` first")
    if task is None and len(tasks) > 1:
        raise ValueError(f"the store holds runs of tasks {tasks} on {dataset!r}; choose one with --task")
    task = task or tasks[0]
    records = [r for r in records if r.task == task]
    if not records:
        raise ValueError(f"no runs of task {task!r} on {dataset!r}; tasks in the store: {tasks}")
    score = score_of(records)
    summary = summarise_runs(rows_frame(records), score.name)
    transfers, cells = {}, [summary.assign(dataset=dataset)]
    for target in transfer or []:
        moved = [r for r in everything if r.dataset == target and r.kind == "evaluation" and r.task == task
                 and r.provenance.resolved_config.get("pretrained_on") == dataset]
        if not moved:
            raise ValueError(f"no {task} runs on {target!r} pretrained on {dataset!r}; run `bench3d run --dataset "
                             f"{target} --pretrained-on {dataset}` first")
        transfers[TRANSFER_PREFIX.get(target, target)] = part = summarise_runs(rows_frame(moved), score.name)
        cells.append(part.assign(dataset=target))
    task_cls = registered_tasks().get(task)
    table = build_table(summary, dataset, task, score, task_cls.reference_table if task_cls else None, reference,
                        transfers)
    moved = [r for r in everything if r.dataset in (transfer or [])]
    table.notes = teacher_notes(ResultsStore(store), records + moved)
    out_dir.mkdir(parents=True, exist_ok=True)
    md = table.to_markdown()
    paths = [out_dir / f"{stem}.md", out_dir / f"{stem}.tex", out_dir / f"{stem}.csv", out_dir / f"{stem}_runs.csv"]
    write_text_atomic(paths[0], md)
    write_text_atomic(paths[1], table.to_latex())
    write_text_atomic(paths[2], table.to_csv())
    write_text_atomic(paths[3], pd.concat(cells).to_csv(index=False))  # which run ids make each cell
    return paths, md


def rows_frame(records: list) -> pd.DataFrame:
    """The long table with `method` replaced by each run's row label (`reports.rows`): runs with another
    teacher, components or settings never share a row."""
    frame = records_to_frame(records)
    labels = {r.run_id: row_label(r) for r in records}
    return frame.assign(method=frame["run_id"].map(labels))


def teacher_notes(store: ResultsStore, records: list) -> dict[str, str]:
    """Per method, what its pretraining's LiDAR BEV teacher (GeoMIM's) was trained with, when a row's
    checkpoint came from such a pretraining: a table must say that the row's camera pretraining used labels."""
    notes: dict[str, set[str]] = {}
    for r in records:
        if not r.checkpoint or not store.has(r.checkpoint):
            continue
        teacher = store.read(r.checkpoint).provenance.resolved_config.get("bev_teacher")
        if teacher:
            notes.setdefault(row_label(r), set()).add(
                f"pretrained against a LiDAR BEV teacher ({teacher['kind']}, run {teacher['run_id'] or teacher.get('file')}) "
                f"trained with labels: {teacher['labels']}")
    return {m: "; ".join(sorted(v)) for m, v in sorted(notes.items())}
