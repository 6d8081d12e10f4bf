"""Segment: the analytics pipeline, which knows people by our account id (its `userId`).

Follows https://docs.segmentapis.com/tag/Deletion-and-Suppression (`POST /regulations`,
`GET /regulations/{regulateId}`; generated SDK docs in segmentio/public-api-sdk-java
`docs/DeletionAndSuppressionApi.md`) and https://segment.com/docs/privacy/user-deletion-and-suppression/.
A deletion is `SUPPRESS_WITH_DELETE` (stop collecting, then delete); an opt-out of sale or
sharing, a restriction (GDPR Art. 18) and an objection or consent withdrawn (Arts 21, 7(3)) are
`SUPPRESS_ONLY`. Regulations can take up to 30 days; the workflow polls on a
durable timer. PARTIAL_SUCCESS is done with an operator follow-up to check the destinations.
"""

from __future__ import annotations

from temporalio.exceptions import ApplicationError

from activities.providers.connector import ApiConnector, Step, Subject
from rights.models import OutcomeStatus, ProviderJob, ProviderOutcome
from rights.plans import ProviderAction

REGULATION = {
    ProviderAction.DELETE: "SUPPRESS_WITH_DELETE",
    ProviderAction.OPT_OUT: "SUPPRESS_ONLY",
    # Restricted or objected to: Segment keeps what it holds and collects nothing more.
    ProviderAction.RESTRICT: "SUPPRESS_ONLY",
    ProviderAction.STOP_PROCESSING: "SUPPRESS_ONLY",
}
RUNNING = ("INITIALIZED", "RUNNING")


class SegmentConnector(ApiConnector):
    def start(self, subject: Subject, action: ProviderAction, step: Step) -> ProviderOutcome:
        """File a regulation for the person's user id (delete or suppress)."""
        regulation_type = REGULATION.get(action)
        if regulation_type is None:
            raise self.unsupported(action)
        regulate_id = step.get("regulate_id")
        if regulate_id is None and subject.account_id is None:
            return self.outcome(
                OutcomeStatus.NOT_FOUND, ["no account id to give Segment as userId"]
            )
        if regulate_id is None:
            # Segment has no idempotency key: a response lost here means a second, identical
            # regulation on retry, which suppresses and deletes the same user again (harmless).
            response = self.api.call(
                "POST",
                "/regulations",
                json={
                    "regulationType": regulation_type,
                    "subjectType": "USER_ID",
                    "subjectIds": [subject.account_id],
                },
            )
            regulate_id = str(response.json()["data"]["regulateId"])
            step.save(regulate_id=regulate_id)
        return self.pending(
            regulate_id, "INITIALIZED", [f"POST /regulations {regulation_type}: {regulate_id}"]
        )

    def poll(
        self, subject: Subject, action: ProviderAction, job: ProviderJob, step: Step
    ) -> ProviderOutcome:
        """Read the regulation's status until it has finished or failed."""
        regulation = self.api.call("GET", f"/regulations/{job.job_id}").json()["data"]["regulation"]
        state = str(regulation["overallStatus"])
        if state in RUNNING:
            return self.pending(job.job_id, state, [])
        evidence = [
            f"POST /regulations {REGULATION[action]}: {job.job_id}",
            f"regulation {job.job_id}: {state} after {job.polls + 1} polls",
        ]
        if state == "FINISHED":
            return self.outcome(OutcomeStatus.DONE, evidence, affected=1)
        if state == "PARTIAL_SUCCESS":
            return self.outcome(
                OutcomeStatus.DONE,
                evidence,
                affected=1,
                follow_up=f"Segment regulation {job.job_id} finished partly: check destinations",
            )
        raise ApplicationError(
            f"{self.entry.name}: regulation {job.job_id} ended {state}",
            type="ProviderRejected",
            non_retryable=True,
        )
