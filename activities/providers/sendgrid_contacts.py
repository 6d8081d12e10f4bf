"""SendGrid Marketing Contacts: the email platform's marketing lists.

Follows the official OpenAPI spec (twilio/sendgrid-oai, `spec/yaml/tsg_mc_contacts_v3.yaml`):
https://www.twilio.com/docs/sendgrid/api-reference/contacts/get-contacts-by-emails
(`POST /v3/marketing/contacts/search/emails`, 404 when no address matches),
https://www.twilio.com/docs/sendgrid/api-reference/contacts/delete-contacts
(`DELETE /v3/marketing/contacts?ids=`, 202 `{"job_id"}`), and
https://www.twilio.com/docs/sendgrid/api-reference/contacts/import-contacts-status
(`GET /v3/marketing/contacts/imports/{id}`: pending, completed, errored, failed).
Suppression lists are left alone on purpose: removing someone from them would let mail reach
them again.
"""

from __future__ import annotations

from typing import Any

from temporalio.exceptions import ApplicationError

from activities.providers.connector import ApiConnector, Step, Subject
from rights.models import OutcomeStatus, ProviderJob, ProviderOutcome
from rights.plans import ProviderAction

FAILED = ("errored", "failed")


class SendGridContactsConnector(ApiConnector):
    def start(self, subject: Subject, action: ProviderAction, step: Step) -> ProviderOutcome:
        """Find the contacts by email; start a deletion job, or export them."""
        if action is ProviderAction.ACCESS:
            contacts = self._find(subject.email)
            if not contacts:
                return self._not_found()
            total = self.write_export(subject, {"contacts": contacts})
            return self.outcome(OutcomeStatus.DONE, [f"contacts: exported {total}"], affected=total)
        if action is not ProviderAction.DELETE:
            raise self.unsupported(action)
        job_id = step.get("job_id")
        if job_id is None:
            ids = step.get("contact_ids")
            if ids is None:
                ids = [contact["id"] for contact in self._find(subject.email)]
                step.save(contact_ids=ids)
            if not ids:
                return self._not_found()
            response = self.api.call(
                "DELETE", "/v3/marketing/contacts", params={"ids": ",".join(ids)}
            )
            job_id = str(response.json()["job_id"])
            step.save(job_id=job_id)
        return self.pending(job_id, "pending", [f"DELETE /v3/marketing/contacts: job {job_id}"])

    def poll(
        self, subject: Subject, action: ProviderAction, job: ProviderJob, step: Step
    ) -> ProviderOutcome:
        """Read the deletion job's status until it has finished or failed."""
        status = self.api.call("GET", f"/v3/marketing/contacts/imports/{job.job_id}").json()
        state = str(status.get("status"))
        results = status.get("results") or {}
        if state in FAILED:
            raise ApplicationError(
                f"{self.entry.name}: delete job {job.job_id} ended {state} "
                f"(errored_count {results.get('errored_count')})",
                type="ProviderRejected",
                non_retryable=True,
            )
        if state != "completed":
            return self.pending(job.job_id, state, [])
        deleted = int(results.get("deleted_count") or 0)
        # After a lost DELETE response a second job finds the contacts gone (deleted_count 0):
        # the journal's ids are what this request deleted.
        found = len(step.get("contact_ids") or [])
        return self.outcome(
            OutcomeStatus.DONE,
            [
                f"DELETE /v3/marketing/contacts: job {job.job_id}",
                f"job {job.job_id}: completed, deleted_count {deleted}, polls {job.polls + 1}",
            ],
            affected=max(deleted, found),
        )

    def _find(self, email: str) -> list[dict[str, Any]]:
        response = self.api.call(
            "POST",
            "/v3/marketing/contacts/search/emails",
            json={"emails": [email]},
            missing_ok=True,
        )
        if response.status_code == 404:
            return []
        entries = response.json().get("result", {}).values()
        return [entry["contact"] for entry in entries if "contact" in entry]

    def _not_found(self) -> ProviderOutcome:
        return self.outcome(
            OutcomeStatus.NOT_FOUND, ["POST /v3/marketing/contacts/search/emails: 404"]
        )
