"""Segment's Public API regulations, as in the Deletion and Suppression API reference
(https://docs.segmentapis.com/tag/Deletion-and-Suppression, generated SDK docs in
segmentio/public-api-sdk-java `docs/DeletionAndSuppressionApi.md`).

`POST /regulations` with `{"regulationType", "subjectType": "USER_ID", "subjectIds"}` answers
200 `{"data": {"regulateId"}}`; `GET /regulations/{id}` reports `overallStatus` INITIALIZED,
then RUNNING, then FINISHED (or FAILED). Quota answers carry `X-Regulation-RateLimit-Remaining`
and an ISO-8601 `X-Regulation-RateLimit-Quota-Reset`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from dev.sandbox.server import Call, Handler, Reply, SandboxProvider

REGULATION_TYPES = {
    "DELETE_INTERNAL",
    "DELETE_ONLY",
    "SUPPRESS_ONLY",
    "SUPPRESS_WITH_DELETE",
    "SUPPRESS_WITH_DELETE_INTERNAL",
    "UNSUPPRESS",
}


class SegmentSandbox(SandboxProvider):
    name = "segment"

    def __init__(
        self,
        token: str,
        *,
        port: int = 0,
        polls_per_job: int = 3,
        state_dir: Path | None = None,
    ) -> None:
        self.profiles: dict[str, dict[str, Any]] = {}
        self.suppressed: set[str] = set()
        self.regulations: dict[str, dict[str, Any]] = {}
        self.polls_per_job = polls_per_job
        self.final_status = "FINISHED"
        super().__init__(token, port=port, state_dir=state_dir)

    def routes(self) -> list[tuple[str, str, Handler]]:
        """The endpoints this provider's API answers, as documented."""
        return [
            ("POST", r"/regulations", self._create),
            ("GET", r"/regulations/(\w+)", self._get),
        ]

    def error(self, status: int, code: str) -> Reply:
        """The provider's error body for `status` and `code`."""
        return Reply(status, {"errors": [{"type": code, "message": "sandbox error"}]})

    def rate_limited(self, wait_seconds: int) -> Reply:
        """The provider's 429, with its own rate-limit headers."""
        reset = datetime.now(UTC) + timedelta(seconds=wait_seconds)
        return Reply(
            429,
            {"errors": [{"type": "rate_limit", "message": "regulation quota exceeded"}]},
            {
                "X-Regulation-RateLimit-Remaining": "0",
                "X-Regulation-RateLimit-Quota-Reset": reset.isoformat(),
            },
        )

    def hold_person(self, email: str, full_name: str, account_id: str) -> None:
        """A user profile, by the account id as Segment's userId."""
        self.profiles[account_id] = {"userId": account_id, "events": 42}

    def state(self) -> dict[str, Any]:
        """Profiles, suppressed users, and the regulations with their ids and progress."""
        return {
            "profiles": self.profiles,
            "suppressed": sorted(self.suppressed),
            "regulations": self.regulations,
        }

    def restore_state(self, state: dict[str, Any]) -> None:
        """Hold what `state()` returned before a restart."""
        self.profiles = state["profiles"]
        self.suppressed = set(state["suppressed"])
        self.regulations = state["regulations"]

    def _create(self, call: Call) -> Reply:
        body = call.json() or {}
        if body.get("regulationType") not in REGULATION_TYPES:
            return self.error(422, "validation")
        if body.get("subjectType") != "USER_ID" or not body.get("subjectIds"):
            return self.error(422, "validation")
        regulate_id = f"reg{self.new_id():06d}"
        self.regulations[regulate_id] = {
            "type": body["regulationType"],
            "subjects": list(body["subjectIds"]),
            "polls": 0,
            "createdAt": datetime.now(UTC).isoformat(),
        }
        return Reply(200, {"data": {"regulateId": regulate_id}})

    def _get(self, call: Call, regulate_id: str) -> Reply:
        regulation = self.regulations.get(regulate_id)
        if regulation is None:
            return self.error(404, "not_found")
        regulation["polls"] += 1
        status = "INITIALIZED" if regulation["polls"] == 1 else "RUNNING"
        if regulation["polls"] >= self.polls_per_job:
            status = self.final_status
            if status == "FINISHED" and not regulation.get("applied"):
                regulation["applied"] = True
                for user_id in regulation["subjects"]:
                    self.suppressed.add(user_id)
                    if "DELETE" in regulation["type"] and self.profiles.pop(user_id, {}):
                        self.deleted(user_id)
        finished = status not in ("INITIALIZED", "RUNNING")
        return Reply(
            200,
            {
                "data": {
                    "regulation": {
                        "id": regulate_id,
                        "workspaceId": "sandbox-workspace",
                        "overallStatus": status,
                        "createdAt": regulation["createdAt"],
                        "finishedAt": datetime.now(UTC).isoformat() if finished else None,
                        "streamStatus": [],
                    }
                }
            },
        )
