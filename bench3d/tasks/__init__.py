"""Downstream tasks: each builds a model around one backbone, makes targets, has a loss and a main score.
Tasks never import methods; the harness joins the two through a backbone."""

from bench3d.tasks.base import DownstreamModel, Task, TaskArgs
from bench3d.tasks.registry import build_task, register_task, registered_tasks, task_class

__all__ = ["DownstreamModel", "Task", "TaskArgs", "build_task", "register_task", "registered_tasks", "task_class"]
