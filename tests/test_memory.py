"""The run's processes keep their heap small: a bounded number of malloc arenas, passed on to the local
worker processes, and a setting that a user can turn off or that an explicit environment value overrides."""

import os
import subprocess
import sys

import pytest

from newswatch.pipelines.memory import limit_malloc_arenas
from newswatch.settings import Settings

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc tuning is Linux-only")


def arena_max_seen_by_a_child() -> str | None:
    out = subprocess.run([sys.executable, "-c", "import os; print(os.environ.get('MALLOC_ARENA_MAX', '-'))"],
                         capture_output=True, text=True, check=True)  # fmt: skip
    return None if out.stdout.strip() == "-" else out.stdout.strip()


def test_worker_processes_started_after_the_limit_inherit_it(monkeypatch):
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    limit_malloc_arenas(Settings().malloc_arena_max)
    assert Settings().malloc_arena_max == 1
    assert arena_max_seen_by_a_child() == "1"


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


# Run in a fresh interpreter: in a long test session the heap already has free holes that new blocks
# would fill, so the "freed but still mapped" step could not be seen.
HOLES = """
import os, sys, time
from newswatch.pipelines.memory import release_freed_memory, returning_freed_memory

def resident_mb():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6

def freed_holes_of_200_mb():
    # 200 MB freed on the heap, each block pinned in place by a small one after it
    blocks, kept = [], []
    for _ in range(2_000):
        blocks.append(bytearray(100_000))
        kept.append(bytearray(1_000))
    del blocks
    return kept

before = resident_mb()
if sys.argv[1] == "now":
    kept = freed_holes_of_200_mb()
    held = resident_mb()
    release_freed_memory()
else:
    with returning_freed_memory(every_s=0.05):
        kept = freed_holes_of_200_mb()
        held = resident_mb()
        deadline = time.monotonic() + 5
        while resident_mb() > before + 50 and time.monotonic() < deadline:
            time.sleep(0.05)
print(held - before, resident_mb() - before)
"""


def freed_then_resident_growth_mb(mode: str) -> tuple[float, float]:
    out = subprocess.run([sys.executable, "-c", HOLES, mode], capture_output=True, text=True, check=True)
    held, after = out.stdout.split()
    return float(held), float(after)


def test_freed_memory_goes_back_to_the_os():
    held, after = freed_then_resident_growth_mb("now")
    assert held > 150  # freed, but glibc keeps the holes mapped
    assert after < 50


def test_while_a_pipeline_runs_freed_memory_goes_back_every_few_seconds():
    _, after = freed_then_resident_growth_mb("background")
    assert after < 50


# A fresh interpreter, as a user's run is: Prefect pins the context of the first task run that starts its
# log and event services, which in a long test session happened in some earlier test.
POLLED_ITEMS_WHILE_THE_PIPELINE_RUNS = """
import gc, runpy, sys
from newswatch.flows import monitor

real_run, counts_file = monitor.run_pipeline, sys.argv[1]

def counting_run(batches, settings):
    live = sum(1 for o in gc.get_objects() if type(o) is dict and "fetched_at" in o and "guid" in o)
    with open(counts_file, "a") as out:
        out.write(f"{live}\\n")
    return real_run(batches, settings)

monitor.run_pipeline = counting_run
sys.argv = ["newswatch", "run", "--once"]
runpy.run_module("newswatch.interfaces.cli", run_name="__main__")
"""


@pytest.mark.integration
def test_polled_items_are_not_held_in_memory_while_the_pipeline_runs(es_settings, tmp_path):
    counts = tmp_path / "live-items.txt"
    run = subprocess.run([sys.executable, "-c", POLLED_ITEMS_WHILE_THE_PIPELINE_RUNS, str(counts)], capture_output=True,
                         text=True, timeout=400, env={**os.environ, "PREFECT_HOME": str(tmp_path / "prefect")})  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    assert "articles indexed" in run.stdout
    assert counts.read_text().split() == ["0"]  # the demo feeds' items are in the raw store, not in the command's memory
