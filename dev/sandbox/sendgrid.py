"""SendGrid Marketing Contacts as specified in twilio/sendgrid-oai `tsg_mc_contacts_v3.yaml`.

`POST /v3/marketing/contacts/search/emails` answers `{"result": {email: {"contact": ...}}}`
(case-insensitive) or 404 when nothing matches; `DELETE /v3/marketing/contacts?ids=` answers
202 `{"job_id"}` and deletes asynchronously; `GET /v3/marketing/contacts/imports/{id}` reports
`pending` until the job ends `completed` (or `failed`). A 429 carries `X-RateLimit-*` with the
reset as a Unix time, as the rate-limits page shows:
https://www.twilio.com/docs/sendgrid/api-reference/how-to-use-the-sendgrid-v3-api/rate-limits
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

from dev.sandbox.server import Call, Handler, Reply, SandboxProvider


class SendGridContactsSandbox(SandboxProvider):
    name = "sendgrid_contacts"

    def __init__(
        self,
        token: str,
        *,
        port: int = 0,
        polls_per_job: int = 3,
        state_dir: Path | None = None,
    ) -> None:
        self.contacts: dict[str, dict[str, Any]] = {}
        # Whose each contact is: the account id the deletion counts go by.
        self.account_of: dict[str, str] = {}
        self.jobs: dict[str, dict[str, Any]] = {}
        self.polls_per_job = polls_per_job
        self.fail_jobs = False
        super().__init__(token, port=port, state_dir=state_dir)

    def routes(self) -> list[tuple[str, str, Handler]]:
        """The endpoints this provider's API answers, as documented."""
        return [
            ("POST", r"/v3/marketing/contacts/search/emails", self._search),
            ("DELETE", r"/v3/marketing/contacts", self._delete),
            ("GET", r"/v3/marketing/contacts/imports/([\w-]+)", self._job),
        ]

    def error(self, status: int, code: str) -> Reply:
        """The provider's error body for `status` and `code`."""
        return Reply(status, {"errors": [{"field": None, "message": code}]})

    def rate_limited(self, wait_seconds: int) -> Reply:
        """The provider's 429, with its own rate-limit headers."""
        return Reply(
            429,
            {"errors": [{"field": None, "message": "too many requests"}]},
            {
                "X-RateLimit-Limit": "600",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": str(int(time.time()) + wait_seconds),
            },
        )

    def hold_person(self, email: str, full_name: str, account_id: str) -> None:
        """A contact on the newsletter list."""
        first, _, last = full_name.partition(" ")
        contact_id = str(uuid.UUID(int=self.new_id()))
        self.account_of[contact_id] = account_id
        self.contacts[contact_id] = {
            "id": contact_id,
            "email": email,
            "first_name": first,
            "last_name": last,
            "list_ids": ["newsletter"],
            "created_at": "2026-01-05T10:00:00Z",
        }

    def state(self) -> dict[str, Any]:
        """Contacts, whose they are, and the delete jobs with their ids and progress."""
        return {"contacts": self.contacts, "account_of": self.account_of, "jobs": self.jobs}

    def restore_state(self, state: dict[str, Any]) -> None:
        """Hold what `state()` returned before a restart."""
        self.contacts = state["contacts"]
        self.account_of = state["account_of"]
        self.jobs = state["jobs"]

    def _search(self, call: Call) -> Reply:
        wanted = [email.lower() for email in call.json()["emails"]]
        result: dict[str, Any] = {}
        for email in wanted:
            match = next((c for c in self.contacts.values() if c["email"].lower() == email), None)
            result[email] = {"contact": match} if match else {"error": "contact not found"}
        if all("error" in entry for entry in result.values()):
            return self.error(404, "No contacts found")
        return Reply(200, {"result": result})

    def _delete(self, call: Call) -> Reply:
        ids = (call.arg("ids") or "").split(",")
        if not ids or ids == [""]:
            return self.error(400, "ids or delete_all_contacts is required")
        job_id = str(uuid.uuid4())
        self.jobs[job_id] = {"ids": ids, "polls": 0}
        return Reply(202, {"job_id": job_id})

    def _job(self, call: Call, job_id: str) -> Reply:
        job = self.jobs.get(job_id)
        if job is None:
            return self.error(404, "job not found")
        job["polls"] += 1
        status = "pending"
        deleted = 0
        if self.fail_jobs:
            status = "failed"
        elif job["polls"] >= self.polls_per_job:
            status = "completed"
            if "deleted" not in job:
                present = [i for i in job["ids"] if i in self.contacts]
                for contact_id in present:
                    del self.contacts[contact_id]
                    self.deleted(self.account_of[contact_id])
                job["deleted"] = len(present)
            deleted = job["deleted"]
        return Reply(
            200,
            {
                "id": job_id,
                "status": status,
                "job_type": "delete",
                "results": {
                    "requested_count": len(job["ids"]),
                    "deleted_count": deleted,
                    "errored_count": 0,
                },
            },
        )
