"""A stand-in for one of the company's internal systems behind the signed webhook contract
described in `activities/providers/webhook.py`: it checks the signature, answers a repeated
Idempotency-Key with its first answer, and in callback mode accepts the job and posts the
signed result to our API when `send_callbacks()` runs (by hand in tests, on a timer in
`make run`).
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from dev.sandbox.server import Call, Handler, Place, Reply, SandboxProvider
from rights.signatures import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    signature_valid,
    signed_headers,
)


class WebhookSandbox(SandboxProvider):
    name = "webhook"

    @classmethod
    def for_provider(cls, token: str, place: Place) -> SandboxProvider:
        """The stand-in for one registry entry, told where to run and whom to call back."""
        return cls(
            token,
            port=place.port,
            provider=place.provider,
            callback_base_url=place.callback_base_url,
            callback_after_seconds=place.callback_after_seconds,
            state_dir=place.state_dir,
        )

    def __init__(
        self,
        token: str,
        *,
        port: int = 0,
        provider: str = "internal-crm",
        callback_base_url: str | None = None,
        callback_after_seconds: float | None = None,
        state_dir: Path | None = None,
    ) -> None:
        self.people: dict[str, dict[str, Any]] = {}
        self.answers: dict[str, Reply] = {}
        self.pending: list[dict[str, Any]] = []
        self.provider = provider
        self.callback_base_url = callback_base_url
        self.callback_after_seconds = callback_after_seconds
        # Call back before answering 202: the race where a fast system beats our bookkeeping.
        self.callback_first = False
        super().__init__(token, port=port, state_dir=state_dir)

    def routes(self) -> list[tuple[str, str, Handler]]:
        """The endpoints this provider's API answers, as documented."""
        return [("POST", r"/?", self._receive)]

    def authorized(self, call: Call) -> bool:
        """Whether the call carries this provider's credentials."""
        return signature_valid(
            self.token,
            call.headers.get(TIMESTAMP_HEADER.lower(), ""),
            call.body,
            call.headers.get(SIGNATURE_HEADER.lower(), ""),
            now=time.time(),
        )

    def error(self, status: int, code: str) -> Reply:
        """The provider's error body for `status` and `code`."""
        return Reply(status, {"error": code})

    def hold_person(self, email: str, full_name: str, account_id: str) -> None:
        """Three notes about the person."""
        self.people[email.lower()] = {"account_id": account_id, "name": full_name, "notes": 3}

    def state(self) -> dict[str, Any]:
        """People, each Idempotency-Key's first answer, and the jobs accepted, not yet done."""
        return {
            "people": self.people,
            "answers": {key: reply.saved() for key, reply in self.answers.items()},
            "pending": self.pending,
        }

    def restore_state(self, state: dict[str, Any]) -> None:
        """Hold what `state()` returned before a restart."""
        self.people = state["people"]
        self.answers = {key: Reply.from_saved(saved) for key, saved in state["answers"].items()}
        self.pending = state["pending"]

    def _receive(self, call: Call) -> Reply:
        key = call.headers.get("idempotency-key")
        if key is None:
            return self.error(400, "Idempotency-Key is required")
        if key in self.answers:
            return self.answers[key]
        order = call.json()
        person = self.people.get(str(order["email"]).lower())
        reply = self._act(order, person)
        self.answers[key] = reply
        return reply

    def _act(self, order: dict[str, Any], person: dict[str, Any] | None) -> Reply:
        if order.get("callback"):
            job_id = f"job-{self.new_id()}"
            self.pending.append({"order": order, "job_id": job_id, "found": person is not None})
            if self.callback_first:
                self.send_callbacks()
            elif self.callback_after_seconds is not None:
                timer = threading.Timer(self.callback_after_seconds, self.send_callbacks)
                timer.daemon = True
                timer.start()
            return Reply(202, {"job_id": job_id})
        if person is None:
            return Reply(404, {"error": "no such person"})
        if order["action"] == "delete":
            del self.people[str(order["email"]).lower()]
            self.deleted(person["account_id"])
            return Reply(
                200, {"status": "done", "records_affected": 1, "evidence": ["notes purged"]}
            )
        if order["action"] == "access":
            records = {"notes": [{"account_id": person["account_id"], "count": person["notes"]}]}
            return Reply(200, {"status": "done", "records_affected": 1, "records": records})
        return Reply(200, {"status": "done", "records_affected": 1})

    def send_callbacks(self) -> int:
        """Finish every accepted job: act, then post the signed result to our API."""
        with self._lock:
            jobs, self.pending = self.pending, []
        assert self.callback_base_url is not None, "callback_base_url is not set"
        for job in jobs:
            order = job["order"]
            with self._lock:
                person = self.people.get(str(order["email"]).lower())
                found = person is not None
                if person is not None and order["action"] == "delete":
                    del self.people[str(order["email"]).lower()]
                    self.deleted(person["account_id"])
                self._save()
            report = {
                "request_id": order["request_id"],
                "job_id": job["job_id"],
                "result": "done" if found else "not_found",
                "records_affected": int(found),
                "evidence": [f"{job['job_id']}: purged" if found else f"{job['job_id']}: none"],
            }
            body = json.dumps(report).encode()
            httpx.post(
                f"{self.callback_base_url}/v1/providers/{self.provider}/callbacks",
                content=body,
                headers=signed_headers(self.token, body, now=time.time()),
                timeout=10,
            ).raise_for_status()
        return len(jobs)
