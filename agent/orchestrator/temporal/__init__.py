"""Subtasks dispatched to Temporal workers (the optional `temporal` extra).

One workflow per subtask; one long activity runs the subtask on a worker through a pluggable
`SubtaskRunner`. Importing this package is cheap: temporalio is imported where it is used, behind
`_imports.require_temporal`, so a missing extra is a clear `ConfigError`, not an ImportError.

    client.TemporalDispatcher   the `Dispatcher` the orchestrator and `subagent dispatch` use
    worker.run_worker           what `subagent worker` runs
    workflows / activities      the workflow and the activity the workers host
    payloads                    compression, and blobs by reference above the inline limit
    workspace                   fetching a subtask's repository at its commit on a worker
"""

DEFAULT_TASK_QUEUE = "subagent"
"""The task queue workers poll and dispatchers use unless told otherwise."""
