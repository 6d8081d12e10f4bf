"""A stand-in for one of the company's internal systems behind the signed webhook contract
described in `activities/providers/webhook.py`: it checks the signature, answers a repeated
Idempotency-Key with its first answer, and in callback mode accepts the job (202), does it
`callback_after_seconds` later (in `make run`; in tests when `send_callbacks()` is called), and
posts the signed result to our API until the API acknowledges it with a 2xx, as the contract
asks of a sender: at once, then after half a second, doubling up to a minute between attempts.

A job's effect and its undelivered callback enter the state file together, so a sandbox
restarted on its directory neither loses the callback nor does the job twice: it resumes
delivering at start.
"""

from __future__ import annotations

import json
import math
import threading
import time
from pathlib import Path
from typing import Any, Self

import httpx

from dev.sandbox.server import Call, Handler, Place, Reply, SandboxProvider
from rights.signatures import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    signature_valid,
    signed_headers,
)

RETRY_FIRST_SECONDS = 0.5
RETRY_MOST_SECONDS = 60.0
# Longer than our API waits on a run before answering 503 (`api/callbacks.py`).
POST_TIMEOUT_SECONDS = 10.0


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
        # Jobs accepted, not done: {"order", "job_id", "due"}, due a Unix time (None: when
        # `send_callbacks()` is called).
        self.pending: list[dict[str, Any]] = []
        # Results not acknowledged yet: {"job_id", "report", "attempts", "due"}.
        self.callbacks: list[dict[str, Any]] = []
        self.provider = provider
        self.callback_base_url = callback_base_url
        self.callback_after_seconds = callback_after_seconds
        # Call back before answering 202: the race where a fast system beats our bookkeeping.
        self.callback_first = False
        self._posting: set[str] = set()  # job ids whose callback is being posted
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._sender = threading.Thread(target=self._send_when_due, daemon=True)
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
        """People, each Idempotency-Key's first answer, jobs not done, results not delivered."""
        return {
            "people": self.people,
            "answers": {key: reply.saved() for key, reply in self.answers.items()},
            "pending": self.pending,
            "callbacks": self.callbacks,
        }

    def restore_state(self, state: dict[str, Any]) -> None:
        """Hold what `state()` returned before a restart."""
        self.people = state["people"]
        self.answers = {key: Reply.from_saved(saved) for key, saved in state["answers"].items()}
        self.pending = state["pending"]
        self.callbacks = state["callbacks"]

    def start(self) -> Self:
        """Serve, and in callback mode send what is due, what a previous run left included."""
        if self.callback_base_url is not None:
            self._sender.start()
        return super().start()

    def stop(self) -> None:
        """Stop serving and sending; what is not delivered stays in the state file."""
        super().stop()
        self._stopping.set()
        self._wake.set()
        if self._sender.is_alive():
            self._sender.join(POST_TIMEOUT_SECONDS)

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
            after = self.callback_after_seconds
            due = None if after is None else time.time() + after
            self.pending.append({"order": order, "job_id": job_id, "due": due})
            if self.callback_first:
                self.send_callbacks()
            self._wake.set()
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
        """Do every accepted job now and post every result not yet acknowledged, once each;
        how many were acknowledged. The others are retried when due."""
        assert self.callback_base_url is not None, "callback_base_url is not set"
        with self._lock:
            for job in list(self.pending):
                self._finish(job)
            posting = self._take(due_by=math.inf)
            self._save()
        return sum(self._post(callback) for callback in posting)

    def _send_when_due(self) -> None:
        """The sender's thread: do jobs and post results as they fall due, until stopped."""
        while not self._stopping.is_set():
            self._wake.clear()
            now = time.time()
            with self._lock:
                for job in [j for j in self.pending if j["due"] is not None and j["due"] <= now]:
                    self._finish(job)
                posting = self._take(due_by=now)
                self._save()
            for callback in posting:
                self._post(callback)
            self._wake.wait(self._seconds_to_next())

    def _finish(self, job: dict[str, Any]) -> None:
        """Do the job and queue its result, in one change of the state file."""
        order = job["order"]
        email = str(order["email"]).lower()
        person = self.people.get(email)
        if person is not None and order["action"] == "delete":
            del self.people[email]
            self.deleted(person["account_id"])
        job_id = job["job_id"]
        self.pending.remove(job)
        self.callbacks.append(
            {
                "job_id": job_id,
                "report": {
                    "request_id": order["request_id"],
                    "job_id": job_id,
                    "result": "done" if person is not None else "not_found",
                    "records_affected": int(person is not None),
                    "evidence": [f"{job_id}: purged" if person is not None else f"{job_id}: none"],
                },
                "attempts": 0,
                "due": time.time(),
            }
        )

    def _take(self, *, due_by: float) -> list[dict[str, Any]]:
        """The callbacks due by then that no other thread is posting, now this one's."""
        taken = [
            c for c in self.callbacks if c["due"] <= due_by and c["job_id"] not in self._posting
        ]
        self._posting.update(c["job_id"] for c in taken)
        return taken

    def _post(self, callback: dict[str, Any]) -> bool:
        """Post one result, signed anew; acknowledged (a 2xx) it is done, else due again later."""
        assert self.callback_base_url is not None
        body = json.dumps(callback["report"]).encode()
        try:
            acknowledged = httpx.post(
                f"{self.callback_base_url}/v1/providers/{self.provider}/callbacks",
                content=body,
                headers=signed_headers(self.token, body, now=time.time()),
                timeout=POST_TIMEOUT_SECONDS,
            ).is_success
        except httpx.HTTPError:
            acknowledged = False
        with self._lock:
            self._posting.discard(callback["job_id"])
            if acknowledged:
                self.callbacks.remove(callback)
            else:
                callback["attempts"] += 1
                wait = RETRY_FIRST_SECONDS * 2 ** (callback["attempts"] - 1)
                callback["due"] = time.time() + min(wait, RETRY_MOST_SECONDS)
            self._save()
        self._wake.set()
        return acknowledged

    def _seconds_to_next(self) -> float | None:
        """How long until a job or a callback falls due; None when nothing is waiting."""
        with self._lock:
            dues = [j["due"] for j in self.pending if j["due"] is not None] + [
                c["due"] for c in self.callbacks if c["job_id"] not in self._posting
            ]
        return max(0.0, min(dues) - time.time()) if dues else None
