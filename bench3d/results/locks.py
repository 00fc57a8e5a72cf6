"""Cross-process locks for a results store that may sit on a shared filesystem (SLURM jobs on many hosts).

A lock is an `fcntl.flock` on a small file that also says who holds it (pid, host, start time) for the
messages of those who wait. The kernel — or, on NFS, the lock manager that Linux maps flock onto — drops
the lock when its owner dies, so a lock of a killed process is never stale and nothing guesses at timeouts.
flock belongs to the open file, not the process: a second open in the same process conflicts as it should.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType

log = logging.getLogger(__name__)


def owner_line(info: dict[str, object] | None) -> str:
    if not info:
        return "running in another process"
    return f"running in pid {info.get('pid')} on host {info.get('host')} since {info.get('since')}"


class StoreLock:
    """`with StoreLock(path, what):` holds the lock for the block; waits while another process holds it."""

    def __init__(self, path: Path, what: str, poll_s: float = 0.5,
                 on_wait: Callable[[str], None] | None = None) -> None:
        self.path = path
        self.what = what
        self.poll_s = poll_s
        self.on_wait = on_wait or (lambda line: log.info("waiting: %s is %s", what, line))
        self._fd: int | None = None

    def holder(self) -> dict[str, object] | None:
        """Who holds the lock now, as written in the file (None when nobody does or it cannot be read)."""
        try:
            return json.loads(self.path.read_text() or "null")
        except (OSError, ValueError):
            return None

    def try_acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        # The file may have been unlinked by its previous holder between our open and our lock: then we
        # hold a lock on an orphan. Only the inode at the path counts.
        try:
            same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
        except FileNotFoundError:
            same = False
        if not same:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        info = {"pid": os.getpid(), "host": socket.gethostname(),
                "since": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        os.write(fd, json.dumps(info).encode())
        os.fsync(fd)
        self._fd = fd
        return True

    def acquire(self) -> None:
        announced = False
        while not self.try_acquire():
            if not announced:
                self.on_wait(owner_line(self.holder()))
                announced = True
            time.sleep(self.poll_s)

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            self.path.unlink(missing_ok=True)  # under the lock: nobody else can hold this inode now
        finally:
            os.close(self._fd)  # closing drops the lock
            self._fd = None

    def __enter__(self) -> StoreLock:
        self.acquire()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()


def is_locked(path: Path) -> bool:
    """Whether some open file description holds the lock at `path` now (looks without writing anything)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # drops the probe's lock if it got one
    return False
