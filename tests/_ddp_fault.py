"""`torchrun --nproc_per_node N tests/_ddp_fault.py BENCH3D-ARGS...`: the CLI, where rank KILL_RANK SIGKILLs
itself when it starts its KILL_AT_MICRO-th training micro-batch (counted over the whole process). Used by
tests/test_ddp.py to kill a DDP run mid-epoch."""

from __future__ import annotations

import os
import signal
import sys

from bench3d.engine.distributed import Parallel

_original = Parallel.step_module
_count = 0


def _step_module(self: Parallel, model, step, device):  # noqa: ANN001, ANN202
    def counted(batch):  # noqa: ANN001, ANN202
        global _count
        _count += 1
        if self.rank == int(os.environ["KILL_RANK"]) and _count == int(os.environ["KILL_AT_MICRO"]):
            os.kill(os.getpid(), signal.SIGKILL)
        return step(batch)

    return _original(self, model, counted, device)


Parallel.step_module = _step_module

if __name__ == "__main__":
    from bench3d.cli.main import main

    main(sys.argv[1:])
