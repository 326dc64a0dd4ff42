"""The run's processes keep their heap small: a bounded number of malloc arenas, passed on to the local
worker processes, and a setting that a user can turn off or that an explicit environment value overrides."""

import os
import subprocess
import sys

import pytest

from newswatch.pipelines.memory import limit_malloc_arenas, release_freed_memory
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


def test_freed_memory_goes_back_to_the_os():
    def resident_mb() -> float:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6

    before = resident_mb()
    blocks, kept = [], []
    for _ in range(2_000):  # 200 MB of heap, each block pinned in place by a small one after it
        blocks.append(bytearray(100_000))
        kept.append(bytearray(1_000))
    del blocks
    assert resident_mb() > before + 150  # freed, but glibc keeps the holes mapped
    release_freed_memory()
    assert resident_mb() < before + 50
