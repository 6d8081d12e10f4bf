"""What Temporal stores and what the logs say: never a requester's contact details or tokens.

A deletion and an access request run end to end; then the raw history bytes, read without the
codec, and every line the process logged are searched for the requester's email, name, phone,
date of birth and every link token that was mailed.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.api.workflowservice.v1 import (
    DescribeWorkflowExecutionRequest,
    GetWorkflowExecutionHistoryRequest,
)
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from client import rights_requests
from logs import configure_logging
from rights.models import OutcomeStatus, ProviderTaskDone, RequestStatus
from rights.terms import RequestType
from tests.harness import INTAKE_KEY, MARIA, Harness
from tests.live_server import free_port, serving
from tests.provider_sandboxes import KINDS, environ_of, registry_with, running_providers


async def raw_bytes_of_run(harness: Harness, request_id: str) -> bytes:
    """History and description exactly as the server stores them: no codec, no converter."""
    service = harness.client.workflow_service
    execution = WorkflowExecution(workflow_id=rights_requests.workflow_id(request_id))
    chunks = [execution.workflow_id.encode()]
    token = b""
    while True:
        page = await service.get_workflow_execution_history(
            GetWorkflowExecutionHistoryRequest(
                namespace=harness.client.namespace, execution=execution, next_page_token=token
            )
        )
        chunks.append(page.history.SerializeToString())
        token = page.next_page_token
        if not token:
            break
    described = await service.describe_workflow_execution(
        DescribeWorkflowExecutionRequest(namespace=harness.client.namespace, execution=execution)
    )
    chunks.append(described.SerializeToString())
    return b"".join(chunks)


async def ui_texts(harness: Harness, request_id: str) -> str:
    """What the Temporal UI shows of a run, decoded as the codec server would: its summary and
    details, every activity's and timer's summary, and its current details."""
    handle = harness.client.get_workflow_handle(rights_requests.workflow_id(request_id))
    converter = harness.client.data_converter
    description = await handle.describe()
    texts = [await description.static_summary() or "", await description.static_details() or ""]
    history = await handle.fetch_history()
    for event in history.events:
        for payload in (event.user_metadata.summary, event.user_metadata.details):
            if payload.ByteSize():
                texts.extend(str(text) for text in await converter.decode([payload], [str]))
    metadata = await handle.query("__temporal_workflow_metadata", result_type=WorkflowMetadata)
    texts.append(metadata.current_details)
    return "\n".join(texts)


async def run_to_completion(
    harness: Harness, http: httpx.AsyncClient, type: RequestType
) -> tuple[str, list[str]]:
    """Intake and the requester's answers go through the API served by uvicorn, as in production."""
    accepted = await http.post(
        "/v1/requests",
        headers={"Authorization": f"Bearer {INTAKE_KEY}"},
        json={
            "type": type.value,
            "channel": "web_form",
            "requester": {
                "email": MARIA[0],
                "full_name": MARIA[1],
                "phone": MARIA[2],
                "residence": "US-CA",
            },
        },
    )
    rid = accepted.json()["request_id"]
    harness.track(rid)
    await harness.wait_for_notice(rid, "verification")
    tokens = [harness.link_token(rid, "verification")]
    await http.get(f"/r/{rid}/verify", params={"token": tokens[0]})
    verified = await http.post(
        f"/r/{rid}/verify",
        data={"token": tokens[0], "phone": MARIA[2], "date_of_birth": MARIA[3]},
    )
    assert "confirmed it is you" in verified.text
    if type is RequestType.DELETION:
        await harness.wait_for_notice(rid, "deletion_reconfirmation")
        tokens.append(harness.link_token(rid, "deletion_reconfirmation"))
        await http.post(f"/r/{rid}/confirm-deletion", data={"token": tokens[-1]})
    await harness.wait_for(rid, lambda s: bool(s.open_tasks))
    await rights_requests.provider_task_done(
        harness.client, rid, ProviderTaskDone(provider="paper-archive", status=OutcomeStatus.DONE)
    )
    # The providers' jobs are polled on timers: move the clock until they end.
    await harness.advance_until(rid, lambda s: s.status is RequestStatus.COMPLETED)
    assert (await harness.result(rid)).status is RequestStatus.COMPLETED
    if type is RequestType.ACCESS:
        tokens.append(harness.link_token(rid, "completed"))
        report = await http.get(f"/r/{rid}/report", params={"token": tokens[-1]})
        assert report.status_code == 200
    return rid, tokens


async def test_no_personal_data_in_history_attributes_or_logs(
    env: WorkflowEnvironment, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    configure_logging(logging.DEBUG)
    port = free_port()
    people = [(MARIA[0], MARIA[1], "1")]
    try:
        with running_providers(KINDS, people) as providers:
            async with (
                Harness.running(
                    env,
                    tmp_path,
                    registry=registry_with(providers, service_database=True, manual=True),
                    environ=environ_of(providers),
                    public_base_url=f"http://127.0.0.1:{port}",
                ) as harness,
                serving(create_app(harness.settings, harness.client), port) as url,
                httpx.AsyncClient(base_url=url) as http,
            ):
                access, access_tokens = await run_to_completion(harness, http, RequestType.ACCESS)
                deletion, deletion_tokens = await run_to_completion(
                    harness, http, RequestType.DELETION
                )
                stored = await raw_bytes_of_run(harness, deletion)
                stored += await raw_bytes_of_run(harness, access)
                shown = await ui_texts(harness, deletion) + await ui_texts(harness, access)
                assert all(p.sandbox.effective_deletions == 1 for p in providers)
    finally:
        logging.getLogger().handlers.clear()
    captured = capfd.readouterr()
    logged = captured.out + captured.err
    personal = [
        MARIA[0],
        quote(MARIA[0]),  # as a provider lookup's query string carries it
        MARIA[1],
        MARIA[2],
        MARIA[3],
        *deletion_tokens,
        *access_tokens,
    ]

    assert b"binary/encrypted" in stored  # the payloads are there, sealed
    assert "notice_sent" in logged and deletion in logged  # the logs are there, with ids
    assert '"event": "http_request"' in logged and "/verify" in logged
    workflow_lines = [
        json.loads(line) for line in logged.splitlines() if '"event": "request_status' in line
    ]
    assert workflow_lines, "the workflow logged no status changes"
    for line in workflow_lines:
        assert line["request_type"] in ("access", "deletion") and line["jurisdiction"] == "US-CA"
        assert line["step"] and line["request_id"] in (access, deletion)
    # The UI explains each run: its title, its dates, each activity and timer, where it stands.
    for expected in (
        "Deletion request · US-CA · web_form",
        "Respond by ",
        "Receipt notice to requester",
        "Match the requester's details against our records",
        "Delete at stripe",
        "Verification reminder due",
        "Deletion confirmation link expires",
        "Write the compliance record",
        "**Completed** · deletion request · US-CA",
    ):
        assert expected in shown, expected
    # The shared test server's clock may be past this request's deadline (the API stamps
    # receipt with the wall clock): the watch's timer is then an overdue alert.
    assert re.search(r"Escalation: (\d+ days before the deadline|overdue by \d+ days)", shown)
    for value in personal:
        assert value not in shown, f"{value[:4]}… found in what the Temporal UI shows"
        assert value.encode() not in stored, f"{value[:4]}… found in Temporal's storage"
        assert value not in logged, f"{value[:4]}… found in the logs"
