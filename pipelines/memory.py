"""The heap of the run's processes kept small: few malloc arenas, and freed memory handed back to the OS.

Arenas: glibc gives a thread that finds the heap busy its own arena, up to 8 per core, and memory freed
in one arena serves only the threads using it. The runner and each local Beam worker run a dozen threads
(gRPC data channels, bundle processing), so each process would keep the high-water mark of several
arenas. Two arenas per process cut the peak of a 5,000-item pipeline run by a sixth (runner and two
workers: 2.24 → 1.89 GB, see the README) at the same speed; one arena took another 60–300 MB off a
10,000-article run (the summed peak 1,732–1,739 MB vs 1,798–2,038), again at the same speed (measured;
likely because Python's small objects come from its own allocator under the GIL, not from malloc).

Trimming: Python frees a step's buffers, but glibc keeps freed heap pages mapped for reuse, so a
process's resident size would stay at its largest step plus the next one. ``malloc_trim`` returns them:
between the steps of a run, and every few seconds while a pipeline runs (the runner holds the first stages'
buffers, then idles while the workers tag: at 10,000 articles it held 526 MiB through tagging, now 364).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gc
import os
import sys
import threading
from collections.abc import Iterator

M_ARENA_MAX = -8  # mallopt parameter (glibc malloc.h)


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


def limit_malloc_arenas(arenas: int) -> None:
    """At most ``arenas`` malloc arenas in this process from now on and in the processes it starts
    (``MALLOC_ARENA_MAX``, read by glibc when a process starts; a value already set wins). 0: glibc's default."""
    if arenas <= 0 or (libc := _libc()) is None:
        return
    os.environ.setdefault("MALLOC_ARENA_MAX", str(arenas))
    with contextlib.suppress(AttributeError, ValueError):  # musl has no mallopt; a malformed value is glibc's to ignore
        libc.mallopt(M_ARENA_MAX, int(os.environ["MALLOC_ARENA_MAX"]))


def release_freed_memory() -> None:
    """Collect garbage and return free heap pages to the OS (glibc only; a no-op elsewhere)."""
    gc.collect()
    if (libc := _libc()) is None:
        return
    with contextlib.suppress(AttributeError):  # musl and other libcs have no malloc_trim
        libc.malloc_trim(0)


@contextlib.contextmanager
def returning_freed_memory(every_s: float = 5.0) -> Iterator[None]:
    """While the block runs, a thread hands freed heap pages back to the OS every ``every_s`` seconds."""
    libc = _libc()
    if libc is None or not hasattr(libc, "malloc_trim"):
        yield
        return
    stop = threading.Event()

    def trim() -> None:
        while not stop.wait(every_s):
            libc.malloc_trim(0)  # a foreign call: the GIL is released meanwhile

    thread = threading.Thread(target=trim, name="return-freed-memory", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
