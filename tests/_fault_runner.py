"""`python tests/_fault_runner.py BENCH3D-ARGS...`: the CLI, SIGKILLed at a record-publish step.

KILL_AT=N picks the N-th record this process writes; KILL_WHEN=before kills just before it is published,
KILL_WHEN=after just after (before the run's state is removed). Used by tests/test_faults.py.
"""

from __future__ import annotations

import os
import signal
import sys

from bench3d.results.store import ResultsStore

_original = ResultsStore.write
_count = 0


def _write(self: ResultsStore, record):  # noqa: ANN001, ANN202
    global _count
    _count += 1
    hit = _count == int(os.environ["KILL_AT"])
    if hit and os.environ["KILL_WHEN"] == "before":
        os.kill(os.getpid(), signal.SIGKILL)
    path = _original(self, record)
    if hit:
        os.kill(os.getpid(), signal.SIGKILL)
    return path


ResultsStore.write = _write

if __name__ == "__main__":
    from bench3d.cli.main import main

    main(sys.argv[1:])
