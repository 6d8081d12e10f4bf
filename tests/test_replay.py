"""Replay the saved histories of every path, so a change that breaks running requests fails.

Refresh them (after an intended, versioned change) with `RECORD_HISTORIES=1 make pytest`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from rights.codec import encrypted_converter
from tests.harness import TEST_CODEC
from worker import workflow_runner
from workflows.rights_request import RightsRequestWorkflow

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def test_every_lifecycle_path_has_a_saved_history() -> None:
    assert len(HISTORIES) >= 15, [path.stem for path in HISTORIES]


@pytest.mark.parametrize("path", HISTORIES, ids=[path.stem for path in HISTORIES])
async def test_saved_history_replays(path: Path) -> None:
    replayer = Replayer(
        workflows=[RightsRequestWorkflow],
        data_converter=encrypted_converter(TEST_CODEC),
        workflow_runner=workflow_runner(),
    )

    await replayer.replay_workflow(WorkflowHistory.from_json(path.stem, path.read_text()))
