"""The default local runner: the same engine on every machine, with or without network access."""

import logging

import apache_beam as beam
import pytest
from apache_beam.testing.util import assert_that, equal_to

from newswatch.pipelines.pipeline import pipeline_options
from newswatch.settings import Settings


@pytest.mark.parametrize("items", [10, 5_000], ids=["one in-process worker", "a worker process per core"])
def test_the_local_runner_never_switches_to_a_downloaded_engine(caplog, items):
    """Beam's DirectRunner would try to download Prism from GitHub first; ours runs the FnApiRunner directly."""
    options = pipeline_options(Settings(), items=items)
    with caplog.at_level(logging.INFO, logger="apache_beam"), beam.Pipeline(options=options) as p:
        counted = p | beam.Create([1, 2, 3]) | beam.combiners.Count.Globally()
        assert_that(counted, equal_to([3]))
    assert not [r for r in caplog.records if "prism" in r.getMessage().lower()]
