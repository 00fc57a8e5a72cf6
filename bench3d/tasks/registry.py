"""Name -> task class. A new task is a `Task` subclass passed to `register_task` plus protocol cards."""

from __future__ import annotations

import importlib
from typing import Any

from pydantic import ValidationError

from bench3d.cards.loader import schema_error
from bench3d.errors import UnknownNameError
from bench3d.tasks.base import Task

_TASKS: dict[str, type[Task]] = {}
_BUILTIN_MODULES = ("lidar_semseg.task",)


def register_task(cls: type[Task]) -> type[Task]:
    """Class decorator: make a task available to protocol cards under `cls.name`."""
    _TASKS[cls.name] = cls
    return cls


def registered_tasks() -> dict[str, type[Task]]:
    for mod in _BUILTIN_MODULES:
        importlib.import_module(f"bench3d.tasks.{mod}")
    return dict(_TASKS)


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
