"""The local runner's worker process: Beam's SDK harness, then an immediate exit.

Beam's FnApiRunner ends a pipeline run by joining its worker processes one after the other, and each
spent ~0.3 s in interpreter teardown (freeing spaCy's model, numpy, Beam) before it could be joined: time
the run waited with the work already done. The harness has finished everything by the time it returns
(in-flight bundles drained, DoFns torn down, its log stream closed), so this worker flushes its output
and exits at once, with the code the harness would have given.
"""

from __future__ import annotations

import os
import shlex
import sys
import traceback

COMMAND = f"{shlex.quote(sys.executable)} -m newswatch.pipelines.sdk_worker"
BEAM_COMMAND = f"{sys.executable} -m apache_beam.runners.worker.sdk_worker_main"  # what the FnApiRunner starts


def main() -> None:
    from apache_beam.runners.worker import sdk_worker_main

    code = 0
    try:
        sdk_worker_main.main(sys.argv)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # the harness logged it; the runner reports the exit code
        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
