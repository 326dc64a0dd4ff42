"""One run at a time on one data dir: a second run says so in one line and exits 75; the lock dies with
the run, kill -9 included, so nothing stale is ever left to clean up."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from newswatch.flows.raw_store import RawStore
from newswatch.flows.run_lock import EXIT_LOCKED, RunInProgress, lock_path, run_lock
from tests.test_e2e import NEWSWATCH, newswatch

pytestmark = pytest.mark.integration


def flock_holders(path: Path) -> set[int]:
    """Pids holding a flock on this file, as the kernel lists them."""
    inode = f":{os.stat(path).st_ino} "
    return {int(line.split()[4]) for line in Path("/proc/locks").read_text().splitlines() if "FLOCK" in line and inode in line}


def test_the_lock_is_exclusive_across_processes_and_released_by_kill_9(tmp_path):
    data_dir = str(tmp_path / "data")
    code = (
        "import sys, time\nfrom newswatch.flows.run_lock import run_lock\n"
        "with run_lock(sys.argv[1]):\n print('held', flush=True)\n time.sleep(600)"
    )
    holder = subprocess.Popen([sys.executable, "-c", code, data_dir], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(RunInProgress, match="another run is in progress on data dir"), run_lock(data_dir):
        pass
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    with run_lock(data_dir):  # no stale lock: the kernel dropped it with the process
        assert flock_holders(lock_path(data_dir)) == {os.getpid()}


def test_a_second_run_while_one_is_running_is_one_line_and_exit_code_75(es_settings):
    store = RawStore(es_settings.data_dir)
    first = subprocess.Popen([NEWSWATCH, "run", "--once"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=os.environ.copy())
    try:
        deadline = time.monotonic() + 180
        while not (store.pending() and first.pid in flock_holders(lock_path(es_settings.data_dir))):
            assert time.monotonic() < deadline and first.poll() is None, "the first run never held the lock"
            time.sleep(0.2)

        second = newswatch("run", "--once")

        assert second.returncode == EXIT_LOCKED
        assert second.stderr.splitlines() == [
            f"error: another run is in progress on data dir {es_settings.data_dir} (lock {lock_path(es_settings.data_dir)}); "
            "try again when it ends"
        ]
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    with run_lock(es_settings.data_dir):  # the killed run left no lock behind
        pass
