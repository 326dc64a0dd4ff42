"""The raw store when the disk is full: one line naming the store, and no temporary file left to keep it full."""

import os
import resource
import signal
from pathlib import Path

import pytest

from newswatch.flows.raw_store import RawStore, RawStoreError


def test_a_write_that_fails_for_lack_of_space_leaves_no_temporary_file_and_says_so_in_one_line(tmp_path: Path):
    store = RawStore(str(tmp_path / "data"))
    items = [{"title": f"story {i}", "content": os.urandom(500).hex()} for i in range(2000)]  # ~1 MB even compressed
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails with EFBIG, as a full disk fails with ENOSPC
    resource.setrlimit(resource.RLIMIT_FSIZE, (64_000, hard))
    try:
        with pytest.raises(RawStoreError) as failed:
            store.write_batch(items)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)
    message = str(failed.value)
    assert message == f"raw store {tmp_path / 'data'}: cannot write a batch of 2000 items (File too large)"
    assert list((tmp_path / "data").rglob("*.tmp")) == [] and store.pending() == []
    assert store.write_batch(items[:10])  # space again: the next write lands
