"""The company's own systems, reached by a signed webhook: the contract is ours, written here.

Request: `POST {base_url}` with JSON `{"request_id", "action", "email", "account_id",
"corrections", "callback"}` and headers `X-Rights-Timestamp` (Unix seconds),
`X-Rights-Signature: v1=<hex HMAC-SHA256(secret, "{timestamp}." + body)>` and
`Idempotency-Key: {request_id}:{action}` (the receiver answers a repeat with its first answer).

Answer, synchronous: 200 `{"status": "done"|"not_found"|"retained", "records_affected",
"evidence": [...], "basis", "corrected_fields", "records": {table: [rows]}}` (records for
access). Answer, asynchronous (`callback = true`): 202 `{"job_id"}`, then the system posts a
signed `{"request_id", "job_id", "result": "done"|"not_found"|"failed", "records_affected",
"evidence"}` to `/v1/providers/{provider}/callbacks` on our API, and posts it again (signed
anew), with a growing pause between attempts, until our API answers 2xx: only a 2xx means the
result is recorded in the request's run, and a lost callback would leave the run waiting for
the job's timeout. Repeats are safe: our API answers a repeated callback for the job with the
first one's answer, even after the request has closed, and answers 503 (with Retry-After) when
it could not record one just then. A 404 means the system holds nothing about the person.
Signing is HMAC over the timestamp and raw body, in the manner of Stripe's and Slack's webhook
signatures (`rights.signatures`); answers older than five minutes are refused.
"""

from __future__ import annotations

import json
import time
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, ValidationError
from temporalio.exceptions import ApplicationError

from activities.providers.connector import ApiConnector, Step, Subject
from logs import mask_contact_details
from rights.models import (
    JobResult,
    OutcomeStatus,
    ProviderJob,
    ProviderJobReport,
    ProviderOutcome,
    Retention,
    RetentionGround,
)
from rights.plans import ProviderAction
from rights.signatures import signed_headers


class WebhookAnswer(BaseModel):
    status: Literal["done", "not_found", "retained"]
    records_affected: Annotated[int, Field(ge=0)] = 0
    evidence: Annotated[list[Annotated[str, Field(max_length=200)]], Field(max_length=20)] = []
    basis: Annotated[str, Field(min_length=5, max_length=500)] | None = None
    # Whether a law requires keeping it (the default) or an exemption allows it.
    ground: RetentionGround = RetentionGround.LEGAL_OBLIGATION
    corrected_fields: list[str] = []
    records: dict[str, list[dict[str, Any]]] = {}


class WebhookConnector(ApiConnector):
    auth = "signed"

    def start(self, subject: Subject, action: ProviderAction, step: Step) -> ProviderOutcome:
        """Post the signed request; read a 200 answer, or a 202 job to await by callback."""
        assert self.entry.api is not None
        callback = self.entry.api.callback
        body = json.dumps(
            {
                "request_id": subject.request_id,
                "action": action.value,
                "email": subject.email,
                "account_id": subject.account_id,
                "corrections": subject.corrections,
                "callback": callback,
            }
        ).encode()
        headers = {
            **signed_headers(self.secret, body, now=time.time()),
            "Idempotency-Key": f"{subject.request_id}:{action.value}",
        }
        response = self.api.call("POST", "", content=body, headers=headers, missing_ok=True)
        if response.status_code == 404:
            return self.outcome(OutcomeStatus.NOT_FOUND, ["POST: 404, holds nothing"])
        if callback and response.status_code == 202:
            job_id = self._job_id(response.json())
            return self.pending(job_id, "accepted", [f"POST: 202, job {job_id}, awaiting callback"])
        answer = self._answer(response.json())
        retained = (
            [Retention(category=self.entry.category, basis=answer.basis, ground=answer.ground)]
            if answer.status == "retained" and answer.basis
            else []
        )
        if answer.status == "retained" and not retained:
            raise self._bad_answer("status 'retained' without a basis")
        if action is ProviderAction.ACCESS and answer.records:
            self.write_export(subject, answer.records)
        outcome = self.outcome(
            OutcomeStatus(answer.status),
            # The system's own words go into the status and the record: contact details masked.
            [
                f"POST: {response.status_code} {answer.status}",
                *(mask_contact_details(line) for line in answer.evidence),
            ],
            affected=answer.records_affected,
        )
        return outcome.model_copy(
            update={"retained": retained, "corrected_fields": answer.corrected_fields}
        )

    def from_report(
        self, subject: Subject, action: ProviderAction, job: ProviderJob, report: ProviderJobReport
    ) -> ProviderOutcome:
        """The job's outcome as its system reported it; a failed job goes to an operator."""
        if report.result is JobResult.FAILED:
            raise ApplicationError(
                f"{self.entry.name}: job {job.job_id} reported failed",
                type="ProviderRejected",
                non_retryable=True,
            )
        return self.outcome(
            OutcomeStatus(report.result.value),
            [
                f"POST: 202, job {job.job_id}",
                f"job {job.job_id}: callback {report.result.value}",
                *(mask_contact_details(line) for line in report.evidence),
            ],
            affected=report.records_affected,
        )

    def _job_id(self, body: Any) -> str:
        job_id = body.get("job_id") if isinstance(body, dict) else None
        if isinstance(job_id, str) and 0 < len(job_id) <= 200:
            return job_id
        raise self._bad_answer("202 without a job_id of 1 to 200 characters")

    def _answer(self, body: Any) -> WebhookAnswer:
        try:
            return WebhookAnswer.model_validate(body)
        except ValidationError as error:
            fields = ", ".join(".".join(str(p) for p in e["loc"]) for e in error.errors())
            raise self._bad_answer(f"invalid fields: {fields}") from None

    def _bad_answer(self, problem: str) -> ApplicationError:
        return ApplicationError(
            f"{self.entry.name}: the webhook's answer breaks the contract ({problem})",
            type="ProviderRejected",
            non_retryable=True,
        )
