"""Name -> task class. A new task is a `Task` subclass passed to `register_task` plus protocol cards."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from bench3d.cards.loader import schema_error
from bench3d.errors import UnknownNameError
from bench3d.registry import Registry
from bench3d.tasks.base import Task

TASKS: Registry[Task] = Registry("bench3d.tasks", ("lidar_semseg.task", "bev_seg.task", "det3d.task"))
register_task = TASKS.register
registered_tasks = TASKS.all


def task_class(name: str) -> type[Task]:
    tasks = registered_tasks()
    if name not in tasks:
        raise UnknownNameError("task", name, sorted(tasks))
    return tasks[name]


def build_task(name: str, args: dict[str, Any], where: str) -> Task:
    """The task with its arguments validated; `where` (card file and preset) prefixes any error."""
    cls = task_class(name)
    try:
        return cls(cls.Args.model_validate(args))
    except ValidationError as exc:
        raise schema_error(f"{where}: task {name!r}", exc, cls.Args) from None
