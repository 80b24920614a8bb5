"""One workflow per subtask: it runs the subtask's activity with bounded retries and returns its result.

The workflow is deliberately thin: the durable parts (retry on another worker, heartbeat timeout,
cancellation) are Temporal's activity machinery. Cancelling the workflow cancels the activity and
waits until it has stopped, so a cancelled dispatch leaves no subtask running.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.workflow import ActivityCancellationType

with workflow.unsafe.imports_passed_through():
    from agent.orchestrator.temporal.models import ACTIVITY_NAME, WORKFLOW_NAME, SubtaskRequest
    from agent.orchestrator.temporal.payloads import PayloadEnvelope

NON_RETRYABLE = ["ConfigError", "UnknownAgentError", "PersonaError", "RegistryError", "WorkspaceFetchError"]
"""Failures another attempt cannot fix: the same input fails the same way on every worker."""


@workflow.defn(name=WORKFLOW_NAME)
class SubtaskWorkflow:
    """Runs `subagent.run_subtask` for one `SubtaskRequest`."""

    @workflow.run
    async def run(self, request: SubtaskRequest) -> PayloadEnvelope:
        """Run the activity to its end; its failure (retries used up, not retryable) fails the workflow."""
        policy = request.policy
        envelope: PayloadEnvelope = await workflow.execute_activity(
            ACTIVITY_NAME,
            request,
            result_type=PayloadEnvelope,
            start_to_close_timeout=timedelta(seconds=policy.start_to_close_s),
            heartbeat_timeout=timedelta(seconds=policy.heartbeat_timeout_s),
            retry_policy=RetryPolicy(
                initial_interval=timedelta(seconds=policy.retry_initial_s),
                maximum_attempts=policy.max_attempts,
                non_retryable_error_types=NON_RETRYABLE,
            ),
            cancellation_type=ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
            summary=f"{request.spec.agent}: {request.spec.description or request.spec.id}",
        )
        return envelope
