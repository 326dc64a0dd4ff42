"""Elasticsearch with security on: basic auth over TLS verified against a CA; secrets stay secret.

The secured server is a second real Elasticsearch (HTTPS on port 9201, started here through
infra/elasticsearch.sh with NEWSWATCH_ES_TLS=true); a file-realm user is created for the test. API keys
cannot be tested on this distribution: they live in the .security index, which needs the
analysis-common module that the integ-test zip lacks (creating one fails with "Unknown filter type
[pattern_capture]"). The client side of API keys (setting es_api_key) is the same code path.
"""

import json
import os
import subprocess
import uuid
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from newswatch.paths import PROJECT_ROOT
from tests.test_e2e import newswatch

pytestmark = pytest.mark.integration
SECURE = {"NEWSWATCH_ES_PORT": "9201", "NEWSWATCH_ES_TLS": "true", "NEWSWATCH_ES_HEAP": "512m"}
URL = "https://127.0.0.1:9201"


def infra(*command: str, **env: str) -> str:
    proc = subprocess.run(["bash", str(PROJECT_ROOT / "infra" / "elasticsearch.sh"), *command], capture_output=True, text=True,
                          env={**os.environ, **SECURE, **env}, timeout=300)  # fmt: skip
    if proc.returncode != 0:
        pytest.fail(f"the secured Elasticsearch did not start: {proc.stderr[-2000:]}")
    return proc.stdout.strip()


@pytest.fixture(scope="module")
def secure_es():
    """(admin client, CA path, user, password, index prefix) on the secured server."""
    infra("up")
    ca = infra("ca")
    admin_password = (Path(infra("home")) / "elastic-password").read_text().strip()
    admin = Elasticsearch(URL, basic_auth=("elastic", admin_password), ca_certs=ca)
    password = f"pw-{uuid.uuid4().hex}"
    infra("add-user", "nw_writer", NEWSWATCH_ES_NEW_PASSWORD=password)
    prefix = f"nwsec-{uuid.uuid4().hex[:6]}"
    yield admin, ca, "nw_writer", password, prefix
    admin.options(ignore_status=404).indices.delete(index=f"{prefix}-*", expand_wildcards="all")


def env_for(secure_es, tmp_path: Path, **extra: str) -> dict:
    _, ca, user, password, prefix = secure_es
    return {"NEWSWATCH_ES_URL": URL, "NEWSWATCH_ES_CA_CERTS": ca, "NEWSWATCH_ES_USERNAME": user, "NEWSWATCH_ES_PASSWORD": password,
            "NEWSWATCH_INDEX_PREFIX": prefix, "NEWSWATCH_DATA_DIR": str(tmp_path / "data"), **extra}  # fmt: skip


def test_end_to_end_with_basic_auth_over_verified_tls(secure_es, tmp_path):
    _, _, _, password, _ = secure_es
    env = env_for(secure_es, tmp_path)
    run = newswatch("run", "--once", env=env)
    assert run.returncode == 0, run.stderr[-2000:]
    assert password not in run.stdout + run.stderr
    found = newswatch("search", "Lukashenko", "--json", env=env)
    assert found.returncode == 0, found.stderr[-2000:]
    assert json.loads(found.stdout)["total"] == 1
    assert len(json.loads(newswatch("alerts", "--json", env=env).stdout)) == 3


def test_credentials_can_come_from_a_file(secure_es, tmp_path):
    _, _, _, password, _ = secure_es
    secret = tmp_path / "es-password"
    secret.write_text(password + "\n")
    proc = newswatch("stats", env=env_for(secure_es, tmp_path, NEWSWATCH_ES_PASSWORD="", NEWSWATCH_ES_PASSWORD_FILE=str(secret)))
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_a_wrong_password_is_one_clear_line_without_the_secret(secure_es, tmp_path):
    wrong = "not-the-password-" + uuid.uuid4().hex
    proc = newswatch("search", "x", env=env_for(secure_es, tmp_path, NEWSWATCH_ES_PASSWORD=wrong))
    assert proc.returncode == 1
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert lines == [f"error: Elasticsearch at {URL} refused the credentials (HTTP 401): check NEWSWATCH_ES_USERNAME/PASSWORD or API key"]
    assert wrong not in proc.stdout + proc.stderr


def test_an_unverifiable_certificate_is_refused(secure_es, tmp_path):
    proc = newswatch("search", "x", env=env_for(secure_es, tmp_path, NEWSWATCH_ES_CA_CERTS=""))
    assert proc.returncode == 1
    (line,) = [line for line in proc.stderr.splitlines() if line.strip()]
    assert line.startswith(f"error: Elasticsearch at {URL} is unreachable") and "certificate" in line.lower()
