"""Zendesk Support users, as in https://developer.zendesk.com/api-reference/ticketing/users/users/
and .../ticketing/users/deleted_users/ (search, soft delete, then permanent delete of the
deleted user; a permanent delete needs the soft delete first), with 429 and `Retry-After`
per https://developer.zendesk.com/api-reference/introduction/rate-limits/. Authentication is
basic `{email}/token:{api_token}`.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from dev.sandbox.server import Call, Handler, Place, Reply, SandboxProvider


class ZendeskSandbox(SandboxProvider):
    name = "zendesk"
    first_id = 9001

    @classmethod
    def for_provider(cls, token: str, place: Place) -> SandboxProvider:
        """The stand-in for one registry entry, told where to run and whom to call back."""
        return cls(token, agent_email=place.agent_email, port=place.port, state_dir=place.state_dir)

    def __init__(
        self, token: str, *, agent_email: str, port: int = 0, state_dir: Path | None = None
    ) -> None:
        self.agent_email = agent_email
        self.users: dict[int, dict[str, Any]] = {}
        self.tickets: list[dict[str, Any]] = []
        super().__init__(token, port=port, state_dir=state_dir)

    def routes(self) -> list[tuple[str, str, Handler]]:
        """The endpoints this provider's API answers, as documented."""
        return [
            ("GET", r"/api/v2/users/search\.json", self._search),
            ("DELETE", r"/api/v2/users/(\d+)\.json", self._soft_delete),
            ("DELETE", r"/api/v2/deleted_users/(\d+)\.json", self._permanent_delete),
            ("GET", r"/api/v2/users/(\d+)/identities\.json", self._identities),
            ("GET", r"/api/v2/users/(\d+)/tickets/requested\.json", self._requested),
        ]

    def authorized(self, call: Call) -> bool:
        """Whether the call carries this provider's credentials."""
        expected = base64.b64encode(f"{self.agent_email}/token:{self.token}".encode()).decode()
        return call.headers.get("authorization") == f"Basic {expected}"

    def error(self, status: int, code: str) -> Reply:
        """The provider's error body for `status` and `code`."""
        names = {401: "Couldn't authenticate you", 403: "Forbidden", 404: "RecordNotFound"}
        return Reply(status, {"error": names.get(status, code), "description": code})

    def rate_limited(self, wait_seconds: int) -> Reply:
        """The provider's 429, with its own rate-limit headers."""
        return Reply(
            429,
            {"error": "TooManyRequests", "description": "Rate limit exceeded"},
            {
                "Retry-After": str(wait_seconds),
                "X-Rate-Limit": "700",
                "X-Rate-Limit-Remaining": "0",
            },
        )

    def hold_person(self, email: str, full_name: str, account_id: str) -> None:
        """An end user with one solved ticket."""
        user_id = self.new_id()
        self.users[user_id] = {
            "id": user_id,
            "name": full_name,
            "email": email,
            "role": "end-user",
            "active": True,
            "external_id": account_id,
        }
        self.tickets.append(
            {
                "id": self.new_id(),
                "requester_id": user_id,
                "subject": "Question about my appointment",
                "status": "solved",
                "created_at": "2026-03-01T09:00:00Z",
            }
        )

    def state(self) -> dict[str, Any]:
        """Users (soft-deleted ones too) and tickets."""
        return {"users": list(self.users.values()), "tickets": self.tickets}

    def restore_state(self, state: dict[str, Any]) -> None:
        """Hold what `state()` returned before a restart."""
        self.users = {user["id"]: user for user in state["users"]}
        self.tickets = state["tickets"]

    def _search(self, call: Call) -> Reply:
        query = (call.arg("query") or "").lower()
        found = [u for u in self.users.values() if u["active"] and u["email"].lower() == query]
        return Reply(200, {"users": found, "count": len(found), "next_page": None})

    def _soft_delete(self, call: Call, user_id: str) -> Reply:
        user = self.users.get(int(user_id))
        if user is None or not user["active"]:
            return self.error(404, "Not found")
        user["active"] = False
        return Reply(200, {"user": user})

    def _permanent_delete(self, call: Call, user_id: str) -> Reply:
        user = self.users.get(int(user_id))
        if user is None:
            return self.error(404, "Not found")
        if user["active"]:
            return self.error(422, "the user must be deleted before it is permanently deleted")
        del self.users[int(user_id)]
        self.tickets = [t for t in self.tickets if t["requester_id"] != int(user_id)]
        self.deleted(user["external_id"])
        return Reply(
            200, {"deleted_user": {"id": int(user_id), "name": "Permanently Deleted User"}}
        )

    def _identities(self, call: Call, user_id: str) -> Reply:
        user = self.users.get(int(user_id))
        if user is None:
            return self.error(404, "Not found")
        identity = {
            "id": int(user_id) * 10,
            "type": "email",
            "value": user["email"],
            "primary": True,
        }
        return Reply(200, {"identities": [identity], "next_page": None})

    def _requested(self, call: Call, user_id: str) -> Reply:
        tickets = [t for t in self.tickets if t["requester_id"] == int(user_id)]
        return Reply(200, {"tickets": tickets, "next_page": None})
