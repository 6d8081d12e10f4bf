"""HubSpot's CRM contacts, as in https://developers.hubspot.com/docs/api-reference/crm-contacts-v3
and the GDPR delete reference (`POST /crm/v3/objects/contacts/gdpr-delete`, 204 No Content, and an
unknown address is blocklisted all the same). Search is `POST /crm/v3/objects/contacts/search`
with `filterGroups`; limits follow https://developers.hubspot.com/docs/guides/apps/api-usage/usage-details
(429 `RATE_LIMIT` with `X-HubSpot-RateLimit-*`, ten-second rolling window, no Retry-After).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dev.sandbox.server import Call, Handler, Reply, SandboxProvider


class HubSpotSandbox(SandboxProvider):
    name = "hubspot"
    first_id = 501

    def __init__(self, token: str, *, port: int = 0, state_dir: Path | None = None) -> None:
        self.contacts: dict[str, dict[str, Any]] = {}
        # Whose each contact is: the account id the deletion counts go by.
        self.account_of: dict[str, str] = {}
        self.blocklist: set[str] = set()
        super().__init__(token, port=port, state_dir=state_dir)

    def routes(self) -> list[tuple[str, str, Handler]]:
        """The endpoints this provider's API answers, as documented."""
        return [
            ("POST", r"/crm/v3/objects/contacts/search", self._search),
            ("POST", r"/crm/v3/objects/contacts/gdpr-delete", self._gdpr_delete),
        ]

    def error(self, status: int, code: str) -> Reply:
        """The provider's error body for `status` and `code`."""
        category = "VALIDATION_ERROR" if status < 500 else "INTERNAL_ERROR"
        if status in (401, 403):
            category = "INVALID_AUTHENTICATION" if status == 401 else "MISSING_SCOPES"
        return Reply(
            status,
            {"status": "error", "message": code, "correlationId": "sandbox", "category": category},
        )

    def rate_limited(self, wait_seconds: int) -> Reply:
        """The provider's 429, with its own rate-limit headers."""
        return Reply(
            429,
            {
                "status": "error",
                "message": "You have reached your ten_secondly_rolling limit.",
                "errorType": "RATE_LIMIT",
                "category": "RATE_LIMITS",
                "policyName": "TEN_SECONDLY_ROLLING",
            },
            {
                "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
                "X-HubSpot-RateLimit-Max": "100",
                "X-HubSpot-RateLimit-Remaining": "0",
            },
        )

    def hold_person(self, email: str, full_name: str, account_id: str) -> None:
        """A contact."""
        first, _, last = full_name.partition(" ")
        contact_id = str(self.new_id())
        self.account_of[contact_id] = account_id
        self.contacts[contact_id] = {
            "id": contact_id,
            "properties": {"email": email, "firstname": first, "lastname": last},
            "createdAt": "2026-01-05T10:00:00Z",
            "updatedAt": "2026-02-01T10:00:00Z",
            "archived": False,
        }

    def state(self) -> dict[str, Any]:
        """Contacts, whose they are, and the GDPR blocklist."""
        return {
            "contacts": self.contacts,
            "account_of": self.account_of,
            "blocklist": sorted(self.blocklist),
        }

    def restore_state(self, state: dict[str, Any]) -> None:
        """Hold what `state()` returned before a restart."""
        self.contacts = state["contacts"]
        self.account_of = state["account_of"]
        self.blocklist = set(state["blocklist"])

    def _by_email(self, email: str) -> list[dict[str, Any]]:
        return [
            c for c in self.contacts.values() if c["properties"]["email"].lower() == email.lower()
        ]

    def _search(self, call: Call) -> Reply:
        body = call.json() or {}
        try:
            condition = body["filterGroups"][0]["filters"][0]
        except (KeyError, IndexError, TypeError):
            return self.error(400, "filterGroups is required")
        if condition.get("propertyName") != "email" or condition.get("operator") != "EQ":
            return self.error(400, "sandbox searches by email EQ only")
        found = self._by_email(str(condition.get("value")))
        return Reply(200, {"total": len(found), "results": found})

    def _gdpr_delete(self, call: Call) -> Reply:
        body = call.json() or {}
        if body.get("idProperty") != "email" or not body.get("objectId"):
            return self.error(400, "objectId and idProperty=email are required")
        email = str(body["objectId"])
        for contact in self._by_email(email):
            del self.contacts[contact["id"]]
            self.deleted(self.account_of[contact["id"]])
        self.blocklist.add(email.lower())
        return Reply(204)
