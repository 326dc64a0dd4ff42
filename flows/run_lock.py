"""One run at a time per raw store: a lock file that any process on the machine sees, gone with the process.

Two runs on one data dir would claim the same pending batches. ``flock`` is held by the open file, so the
kernel releases it when the run exits in any way, ``kill -9`` included: no stale lock to clean up. It
covers local data dirs; for a remote store (s3://, gs://) the lock file sits in the system's temp folder,
so it serialises runs on one machine only.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import fsspec

EXIT_LOCKED = 75  # EX_TEMPFAIL: another run holds the lock; try again later


class RunInProgress(RuntimeError):
    """Another run holds this data dir's lock."""


def lock_path(data_dir: str) -> Path:
    fs, base = fsspec.core.url_to_fs(data_dir)
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    if protocol in ("file", "local"):
        Path(base).mkdir(parents=True, exist_ok=True)
        return Path(base) / ".run.lock"
    return Path(tempfile.gettempdir()) / f"newswatch-{hashlib.sha256(data_dir.encode()).hexdigest()[:16]}.run.lock"


@contextlib.contextmanager
def run_lock(data_dir: str) -> Iterator[None]:
    """Hold the data dir's run lock, or raise ``RunInProgress`` at once (never waits)."""
    path = lock_path(data_dir)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunInProgress(f"another run is in progress on data dir {data_dir} (lock {path}); try again when it ends") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)
