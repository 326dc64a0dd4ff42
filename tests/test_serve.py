"""Scheduled runs: `newswatch serve` starts a Prefect server and runs the monitor on its interval."""

import os
import signal
import subprocess
import time

import pytest

from newswatch.store import connect
from tests.test_e2e import NEWSWATCH

pytestmark = pytest.mark.integration


def test_serve_runs_the_monitor_on_a_schedule(es_settings, tmp_path):
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen([NEWSWATCH, "serve", "--interval", "5"], stdout=log, stderr=subprocess.STDOUT, env=os.environ.copy(),
                            start_new_session=True)  # fmt: skip
    es = connect(es_settings)
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and proc.poll() is None:
            if es.indices.exists(index=es_settings.articles_alias):
                es.indices.refresh(index=es_settings.articles_alias)
                if es.count(index=es_settings.articles_alias)["count"] == 3:
                    break
            time.sleep(2)
        assert proc.poll() is None, (tmp_path / "serve.log").read_text()[-3000:]
        assert es.count(index=es_settings.articles_alias)["count"] == 3
        later = time.monotonic() + 120
        while (tmp_path / "serve.log").read_text().count("Beginning flow run") < 2 and time.monotonic() < later:
            time.sleep(2)  # until at least one more scheduled run has started
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()
    out = (tmp_path / "serve.log").read_text()
    runs = out.count("Beginning flow run")
    assert runs >= 2, out[-3000:]
    assert es.count(index=es_settings.articles_alias)["count"] == 3  # later runs add nothing
