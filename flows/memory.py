"""Freed memory handed back to the operating system between the big steps of a run.

One run holds every polled item, then the pipeline's buffers for each chunk of the backlog, one after
the other, in this process. Python frees them, but glibc keeps freed heap pages mapped for reuse, so the
process's resident size would stay at the largest step plus the next one. ``malloc_trim`` returns them.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import sys


def release_freed_memory() -> None:
    """Collect garbage and return free heap pages to the OS (glibc only; a no-op elsewhere)."""
    gc.collect()
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):  # musl and other libcs have no malloc_trim
        pass
