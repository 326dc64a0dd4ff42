"""The run's processes keep their heap small: a bounded number of malloc arenas, passed on to the local
worker processes, and a setting that a user can turn off or that an explicit environment value overrides."""

import os
import subprocess
import sys
import time

import pytest

from newswatch.pipelines.memory import limit_malloc_arenas, release_freed_memory, returning_freed_memory
from newswatch.settings import Settings

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc tuning is Linux-only")


def arena_max_seen_by_a_child() -> str | None:
    out = subprocess.run([sys.executable, "-c", "import os; print(os.environ.get('MALLOC_ARENA_MAX', '-'))"],
                         capture_output=True, text=True, check=True)  # fmt: skip
    return None if out.stdout.strip() == "-" else out.stdout.strip()


def test_worker_processes_started_after_the_limit_inherit_it(monkeypatch):
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    limit_malloc_arenas(Settings().malloc_arena_max)
    assert Settings().malloc_arena_max == 2
    assert arena_max_seen_by_a_child() == "2"


def test_an_arena_limit_set_in_the_environment_wins(monkeypatch):
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    limit_malloc_arenas(2)
    assert arena_max_seen_by_a_child() == "4"


def test_zero_leaves_glibc_its_default(monkeypatch):
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    monkeypatch.setenv("NEWSWATCH_MALLOC_ARENA_MAX", "0")
    limit_malloc_arenas(Settings().malloc_arena_max)
    assert "MALLOC_ARENA_MAX" not in os.environ
    assert arena_max_seen_by_a_child() is None


def resident_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def freed_holes_of_200_mb() -> list[bytearray]:
    """200 MB freed on the heap, each block pinned in place by a small one after it; returns the small ones."""
    blocks, kept = [], []
    for _ in range(2_000):
        blocks.append(bytearray(100_000))
        kept.append(bytearray(1_000))
    del blocks
    return kept


def test_freed_memory_goes_back_to_the_os():
    before = resident_mb()
    kept = freed_holes_of_200_mb()
    assert resident_mb() > before + 150  # freed, but glibc keeps the holes mapped
    release_freed_memory()
    assert resident_mb() < before + 50 and kept


def test_while_a_pipeline_runs_freed_memory_goes_back_every_few_seconds():
    before = resident_mb()
    with returning_freed_memory(every_s=0.05):
        kept = freed_holes_of_200_mb()
        deadline = time.monotonic() + 5
        while resident_mb() > before + 50 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert resident_mb() < before + 50 and kept
