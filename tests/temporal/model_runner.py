"""The real runner a worker uses (`agent.orchestrator.local.LocalRunner`: the agent loop, the tools,
the permission gate), with the scripted model named by `SUBAGENT_TEST_SCRIPT` instead of the API."""

from __future__ import annotations

import os
from pathlib import Path

from agent.model.scripted import ScriptedModel
from agent.orchestrator.local import LocalRunner

run = LocalRunner(model_client=ScriptedModel.from_file(Path(os.environ["SUBAGENT_TEST_SCRIPT"])))
