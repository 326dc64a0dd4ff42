"""The local runner: Beam's FnApiRunner, always.

Beam's ``DirectRunner`` first tries Prism, a Go engine it downloads from GitHub at run time, and falls
back to the FnApiRunner only when that fails. So the same setting would run on one engine with network
access and another without, fetch a binary in the middle of a run, and ignore ``direct_num_workers``
and ``direct_running_mode``, which the FnApiRunner honours. ``runner: DirectRunner`` means this runner;
Prism stays available by name (``runner: PrismRunner``).
"""

from __future__ import annotations

from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.portability import python_urns
from apache_beam.portability.api import beam_provision_api_pb2, beam_runner_api_pb2
from apache_beam.runners.portability.fn_api_runner import fn_runner
from apache_beam.runners.portability.portable_runner import JobServiceHandle
from apache_beam.runners.runner import PipelineResult, PipelineRunner

from newswatch.pipelines import sdk_worker


class LocalRunner(PipelineRunner):
    """What ``DirectRunner`` runs when Prism is unavailable: the FnApiRunner, given the pipeline options."""

    def run_pipeline(self, pipeline, options: PipelineOptions) -> PipelineResult:
        encoded = JobServiceHandle.encode_pipeline_options(options.get_all_options())
        info = fn_runner.ExtendedProvisionInfo(beam_provision_api_pb2.ProvisionInfo(pipeline_options=encoded))
        return _FnApiRunner(provision_info=info).run_pipeline(pipeline, options)


class _FnApiRunner(fn_runner.FnApiRunner):
    """The FnApiRunner, with worker processes (``direct_running_mode=multi_processing``) that exit as soon as
    their harness is done (``sdk_worker``) instead of Beam's, which the runner joined through their teardown."""

    def run_via_runner_api(self, pipeline_proto: beam_runner_api_pb2.Pipeline, options: PipelineOptions) -> PipelineResult:
        for env in pipeline_proto.components.environments.values():
            if env.urn == python_urns.SUBPROCESS_SDK and env.payload == sdk_worker.BEAM_COMMAND.encode():
                env.payload = sdk_worker.COMMAND.encode()
        return super().run_via_runner_api(pipeline_proto, options)
