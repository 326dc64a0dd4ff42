"""The raw store: new feed items land here, as compressed JSONL batches, before anything else runs.

A crash or an Elasticsearch outage after this point loses nothing: a batch stays ``pending`` until the
pipeline has indexed it, then it moves to ``done``, from where ``newswatch replay`` can run it again.
A batch that keeps failing (not the server: the batch itself) moves to ``quarantine`` after
``batch_max_attempts`` runs, with its reason, so it never blocks newer batches; ``newswatch batches`` lists
it and ``newswatch replay --quarantined`` tries it again. Attempts and reasons are files beside the
batches (``failures/``), as durable as the batches themselves.
Any fsspec URL works (a local directory, s3://, gs://), so workers on other machines share it.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import uuid
import zlib
from datetime import UTC, datetime

import fsspec

PENDING, DONE, QUARANTINE, FAILURES = "pending", "done", "quarantine", "failures"


class RawStoreError(OSError):
    """The raw store cannot take a batch (disk full, no permission); one line naming the store."""


def _name(batch: str) -> str:
    return batch.rsplit("/", 1)[-1]


class RawStore:
    def __init__(self, root: str) -> None:
        self.root = root.rstrip("/")
        self.fs, self.base = fsspec.core.url_to_fs(self.root)
        for state in (PENDING, DONE, QUARANTINE, FAILURES):
            self.fs.makedirs(f"{self.base}/{state}", exist_ok=True)

    def _url(self, path: str) -> str:
        protocol = self.fs.protocol if isinstance(self.fs.protocol, str) else self.fs.protocol[0]
        return path if protocol in ("file", "local") else f"{protocol}://{path}"

    def write_batch(self, items: list[dict]) -> str | None:
        """Write items as one pending batch (written under a temporary name, then renamed).

        A failed write (disk full) removes its temporary file, so it does not keep the disk full.
        """
        if not items:
            return None
        name = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}.jsonl.gz"
        final, tmp = f"{self.base}/{PENDING}/{name}", f"{self.base}/{PENDING}/.{name}.tmp"
        try:
            with self.fs.open(tmp, "wb") as fh, gzip.GzipFile(fileobj=fh, mode="wb") as gz:
                for it in items:
                    gz.write(json.dumps(it, ensure_ascii=False).encode("utf-8") + b"\n")
            self.fs.mv(tmp, final)
        except OSError as exc:
            with contextlib.suppress(OSError):
                self.fs.rm(tmp)
            raise RawStoreError(f"raw store {self.root}: cannot write a batch of {len(items)} items ({exc.strerror or exc})") from None
        return self._url(final)

    def pending(self) -> list[str]:
        return sorted(self._url(p) for p in self.fs.glob(f"{self.base}/{PENDING}/*.jsonl.gz"))

    def done(self) -> list[str]:
        return sorted(self._url(p) for p in self.fs.glob(f"{self.base}/{DONE}/*.jsonl.gz"))

    def quarantined(self) -> list[str]:
        return sorted(self._url(p) for p in self.fs.glob(f"{self.base}/{QUARANTINE}/*.jsonl.gz"))

    def mark_done(self, batch: str) -> None:
        self._move(batch, DONE)
        self._forget_failures(batch)

    def failures(self, batch: str) -> dict:
        """How many runs failed on this batch, the last reason, and when it was quarantined (if it was)."""
        path = f"{self.base}/{FAILURES}/{_name(batch)}.json"
        if not self.fs.exists(path):
            return {"attempts": 0}
        with self.fs.open(path, "r") as fh:
            return json.load(fh)

    def record_failure(self, batch: str, reason: str, max_attempts: int) -> bool:
        """Count one failed run on this batch; at ``max_attempts`` it moves to quarantine. Returns whether it did."""
        info = self.failures(batch)
        info.update(attempts=info["attempts"] + 1, last_error=reason, last_failed_at=datetime.now(UTC).isoformat())
        quarantine = info["attempts"] >= max_attempts
        if quarantine:
            info["quarantined_at"] = info["last_failed_at"]
        with self.fs.open(f"{self.base}/{FAILURES}/{_name(batch)}.json", "w") as fh:
            json.dump(info, fh)
        if quarantine:
            self._move(batch, QUARANTINE)
        return quarantine

    def release(self, batches: list[str], attempts: int = 0) -> list[str]:
        """Quarantined batches back to pending, counted as having failed ``attempts`` runs: a deliberate retry."""
        for b in batches:
            info = {**self.failures(b), "attempts": attempts}
            info.pop("quarantined_at", None)
            with self.fs.open(f"{self.base}/{FAILURES}/{_name(b)}.json", "w") as fh:
                json.dump(info, fh)
        return [self._move(b, PENDING) for b in batches]

    def _move(self, batch: str, state: str) -> str:
        _, path = fsspec.core.url_to_fs(batch)
        target = f"{self.base}/{state}/{_name(path)}"
        self.fs.mv(path, target)
        return self._url(target)

    def _forget_failures(self, batch: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm(f"{self.base}/{FAILURES}/{_name(batch)}.json")

    def requeue(self, batches: list[str]) -> list[str]:
        """Move done batches back to pending, for a deliberate replay."""
        return [self._move(b, PENDING) for b in batches]

    @staticmethod
    def count(batch: str) -> int:
        """Items in a batch (compressed lines: cheap next to processing them); 0 for a damaged batch, which
        the pipeline run then finds and isolates like any failing batch."""
        try:
            with fsspec.open(batch, "rb", compression="gzip") as fh:
                return sum(1 for line in fh if line.strip())
        except (OSError, EOFError, zlib.error):
            return 0

    @staticmethod
    def read(batch: str) -> list[dict]:
        with fsspec.open(batch, "rb", compression="gzip") as fh:
            return [json.loads(line) for line in fh if line.strip()]
