"""Replay every history ever saved, so a change that would break running requests fails.

Histories live in `tests/histories/<release>/`, one folder per released version, and are never
re-recorded: requests started under that release may still be running, waiting for weeks. A
change to workflow code that alters the commands an old history expects goes under
`workflow.patched(...)`; new paths are recorded beside the old ones with
`RECORD_HISTORIES=1 make pytest`, which writes only files that do not exist yet, into the
folder of the current version (`pyproject.toml`).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from rights.codec import encrypted_converter
from tests.harness import HISTORIES, TEST_CODEC
from worker import workflow_runner
from workflows.appeal import AppealWorkflow
from workflows.correspondence import CorrespondenceWorkflow
from workflows.report_expiry import ReportExpiryWorkflow
from workflows.rights_request import RightsRequestWorkflow

SAVED = sorted(HISTORIES.glob("*/*.json"))


def test_every_release_keeps_its_histories() -> None:
    releases = {path.parent.name for path in SAVED}
    assert "0.1.0" in releases, releases
    assert len([path for path in SAVED if path.parent.name == "0.1.0"]) == 15


@pytest.mark.parametrize("path", SAVED, ids=[f"{p.parent.name}/{p.stem}" for p in SAVED])
async def test_saved_history_replays(path: Path) -> None:
    replayer = Replayer(
        workflows=[
            RightsRequestWorkflow,
            AppealWorkflow,
            ReportExpiryWorkflow,
            CorrespondenceWorkflow,
        ],
        data_converter=encrypted_converter(TEST_CODEC),
        workflow_runner=workflow_runner(encrypted_converter(TEST_CODEC), strict=True),
    )

    await replayer.replay_workflow(WorkflowHistory.from_json(path.stem, path.read_text()))
