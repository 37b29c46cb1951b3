"""Long-running tasks: Confluence deletes a user asynchronously and reports progress by task id."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# Finished tasks kept for GET /rest/api/longtask/{id}; the oldest are forgotten first.
KEEP_TASKS = 10_000


@dataclass(slots=True)
class LongTask:
    id: str
    key: str
    args: list[str]
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    successful: bool = False
    messages: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        end = self.finished if self.finished is not None else time.monotonic()
        return {
            "id": self.id,
            "name": {"key": self.key, "args": self.args},
            "elapsedTime": int((end - self.started) * 1000),
            "percentageComplete": 0 if self.finished is None else 100,
            "successful": self.successful,
            "messages": [{"translation": text, "args": []} for text in self.messages],
        }


class LongTasks:
    def __init__(self) -> None:
        self._tasks: dict[str, LongTask] = {}
        self._lock = threading.Lock()

    def start(self, key: str, args: list[str], delay: float, work: Callable[[], str]) -> LongTask:
        """Run `work` (it returns the completion message) `delay` seconds from now on the running loop."""
        task = LongTask(uuid.uuid4().hex, key, args)
        with self._lock:
            self._tasks[task.id] = task
            while len(self._tasks) > KEEP_TASKS:
                del self._tasks[next(iter(self._tasks))]
        asyncio.get_running_loop().call_later(delay, self._finish, task, work)
        return task

    def _finish(self, task: LongTask, work: Callable[[], str]) -> None:
        with self._lock:
            if self._tasks.get(task.id) is not task:
                return  # forgotten by a reset in the meantime
        try:
            task.messages.append(work())
            task.successful = True
        except Exception as exc:  # the task fails, the server goes on
            task.messages.append(str(exc))
        task.finished = time.monotonic()

    def get(self, task_id: str) -> LongTask | None:
        with self._lock:
            return self._tasks.get(task_id)

    def clear(self) -> None:
        with self._lock:
            self._tasks.clear()
