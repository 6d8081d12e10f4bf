"""What Temporal stores and what the logs say: never a requester's contact details or tokens.

A deletion and an access request run end to end; then the raw history bytes, read without the
codec, and every line the process logged are searched for the requester's email, name, phone,
date of birth and every link token that was mailed.
"""

from __future__ import annotations

import logging

import pytest
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import (
    DescribeWorkflowExecutionRequest,
    GetWorkflowExecutionHistoryRequest,
)

import rights_client
from logs import configure_logging
from rights.models import (
    DataPoint,
    OutcomeStatus,
    ProviderTaskDone,
    ReconfirmationAnswer,
    RequestStatus,
    RequestType,
    VerificationAnswer,
)
from tests.harness import MARIA, Harness


async def raw_bytes_of_run(harness: Harness, request_id: str) -> bytes:
    """History and description exactly as the server stores them: no codec, no converter."""
    service = harness.client.workflow_service
    execution = WorkflowExecution(workflow_id=rights_client.workflow_id(request_id))
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


async def run_to_completion(harness: Harness, type: RequestType) -> tuple[str, list[str]]:
    request = await harness.submit(type)
    rid = request.request_id
    await harness.wait_for_notice(rid, "verification")
    tokens = [harness.link_token(rid, "verification")]
    await rights_client.answer_verification(
        harness.client,
        rid,
        VerificationAnswer(
            token=tokens[0],
            data_points={DataPoint.PHONE: MARIA[2], DataPoint.DATE_OF_BIRTH: MARIA[3]},
        ),
    )
    if type is RequestType.DELETION:
        await harness.wait_for_notice(rid, "deletion_reconfirmation")
        tokens.append(harness.link_token(rid, "deletion_reconfirmation"))
        await rights_client.confirm_deletion(
            harness.client, rid, ReconfirmationAnswer(token=tokens[-1])
        )
    await harness.wait_for(rid, lambda s: bool(s.open_tasks))
    await rights_client.provider_task_done(
        harness.client, rid, ProviderTaskDone(provider="paper-archive", status=OutcomeStatus.DONE)
    )
    assert (await harness.result(rid)).status is RequestStatus.COMPLETED
    if type is RequestType.ACCESS:
        tokens.append(harness.link_token(rid, "completed"))
    return rid, tokens


async def test_no_personal_data_in_history_attributes_or_logs(
    harness: Harness, capfd: pytest.CaptureFixture[str]
) -> None:
    configure_logging(logging.DEBUG)
    try:
        access, access_tokens = await run_to_completion(harness, RequestType.ACCESS)
        deletion, deletion_tokens = await run_to_completion(harness, RequestType.DELETION)
    finally:
        logging.getLogger().handlers.clear()
    captured = capfd.readouterr()
    logged = captured.out + captured.err
    personal = [MARIA[0], MARIA[1], MARIA[2], MARIA[3], *deletion_tokens, *access_tokens]

    stored = await raw_bytes_of_run(harness, deletion) + await raw_bytes_of_run(harness, access)

    assert b"binary/encrypted" in stored  # the payloads are there, sealed
    assert "notice_sent" in logged and deletion in logged  # the logs are there, with ids
    for value in personal:
        assert value.encode() not in stored, f"{value[:4]}… found in Temporal's storage"
        assert value not in logged, f"{value[:4]}… found in the logs"
