"""The raw store: new feed items land here, as compressed JSONL batches, before anything else runs.

A crash or an Elasticsearch outage after this point loses nothing: a batch stays ``pending`` until the
pipeline has indexed it, then it moves to ``done``, from where ``newswatch replay`` can run it again.
Any fsspec URL works (a local directory, s3://, gs://), so workers on other machines share it.
"""

from __future__ import annotations

import gzip
import json
import uuid
from datetime import UTC, datetime

import fsspec

PENDING, DONE = "pending", "done"


class RawStore:
    def __init__(self, root: str) -> None:
        self.root = root.rstrip("/")
        self.fs, self.base = fsspec.core.url_to_fs(self.root)
        for state in (PENDING, DONE):
            self.fs.makedirs(f"{self.base}/{state}", exist_ok=True)

    def _url(self, path: str) -> str:
        protocol = self.fs.protocol if isinstance(self.fs.protocol, str) else self.fs.protocol[0]
        return path if protocol in ("file", "local") else f"{protocol}://{path}"

    def write_batch(self, items: list[dict]) -> str | None:
        """Write items as one pending batch (written under a temporary name, then renamed)."""
        if not items:
            return None
        name = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}.jsonl.gz"
        final, tmp = f"{self.base}/{PENDING}/{name}", f"{self.base}/{PENDING}/.{name}.tmp"
        with self.fs.open(tmp, "wb") as fh, gzip.GzipFile(fileobj=fh, mode="wb") as gz:
            for it in items:
                gz.write(json.dumps(it, ensure_ascii=False).encode("utf-8") + b"\n")
        self.fs.mv(tmp, final)
        return self._url(final)

    def pending(self) -> list[str]:
        return sorted(self._url(p) for p in self.fs.glob(f"{self.base}/{PENDING}/*.jsonl.gz"))

    def done(self) -> list[str]:
        return sorted(self._url(p) for p in self.fs.glob(f"{self.base}/{DONE}/*.jsonl.gz"))

    def mark_done(self, batch: str) -> None:
        _, path = fsspec.core.url_to_fs(batch)
        self.fs.mv(path, f"{self.base}/{DONE}/{path.rsplit('/', 1)[-1]}")

    def requeue(self, batches: list[str]) -> list[str]:
        """Move done batches back to pending, for a deliberate replay."""
        moved = []
        for b in batches:
            _, path = fsspec.core.url_to_fs(b)
            target = f"{self.base}/{PENDING}/{path.rsplit('/', 1)[-1]}"
            self.fs.mv(path, target)
            moved.append(self._url(target))
        return moved

    @staticmethod
    def read(batch: str) -> list[dict]:
        with fsspec.open(batch, "rb", compression="gzip") as fh:
            return [json.loads(line) for line in fh if line.strip()]
