"""Zendesk Support: the help desk's end users and the tickets they raised.

Follows https://developer.zendesk.com/api-reference/ticketing/users/users/ (search users,
`DELETE /api/v2/users/{id}`), https://developer.zendesk.com/api-reference/ticketing/users/deleted_users/
(`DELETE /api/v2/deleted_users/{id}`: the permanent, GDPR deletion, allowed only after the soft
delete, 700 users per 10 minutes) and https://developer.zendesk.com/api-reference/introduction/rate-limits/
(429 with `Retry-After`). A soft delete alone is not an erasure: both steps run for every user
the journal says we found, and a 404 on a step a lost attempt already did counts as done.
"""

from __future__ import annotations

from typing import Any

from activities.providers.connector import ApiConnector, Step, Subject
from rights.models import OutcomeStatus, ProviderOutcome
from rights.plans import ProviderAction


class ZendeskConnector(ApiConnector):
    auth = "agent"

    def start(self, subject: Subject, action: ProviderAction, step: Step) -> ProviderOutcome:
        """Find the users by email; delete them for good, or export them with their tickets."""
        if action is ProviderAction.ACCESS:
            return self._export(subject)
        if action is not ProviderAction.DELETE:
            raise self.unsupported(action)
        users = step.get("users")
        if users is None:
            users = [user["id"] for user in self._search(subject.email)]
            step.save(users=users)
        if not users:
            return self._not_found()
        evidence = []
        for user in users:
            soft = self.api.call("DELETE", f"/api/v2/users/{user}.json", missing_ok=True)
            hard = self.api.call("DELETE", f"/api/v2/deleted_users/{user}.json", missing_ok=True)
            evidence.append(
                f"user {user}: DELETE users {soft.status_code}, "
                f"DELETE deleted_users {hard.status_code}"
                + (" (already gone)" if 404 in (soft.status_code, hard.status_code) else "")
            )
        return self.outcome(OutcomeStatus.DONE, evidence, affected=len(users))

    def _search(self, email: str) -> list[dict[str, Any]]:
        found = self.api.call("GET", "/api/v2/users/search.json", params={"query": email}).json()
        # Search is fuzzy: act only on users whose address is exactly this one.
        return [
            user
            for user in found.get("users", [])
            if str(user.get("email") or "").lower() == email.lower()
        ]

    def _export(self, subject: Subject) -> ProviderOutcome:
        users = self._search(subject.email)
        if not users:
            return self._not_found()
        tables: dict[str, list[dict[str, Any]]] = {"users": [], "identities": [], "tickets": []}
        for user in users:
            tables["users"].append(
                {
                    key: user.get(key)
                    for key in ("id", "name", "email", "phone", "role", "created_at")
                }
            )
            identities = self.api.call("GET", f"/api/v2/users/{user['id']}/identities.json").json()
            tables["identities"] += [
                {key: i.get(key) for key in ("id", "type", "value", "primary")}
                for i in identities.get("identities", [])
            ]
            tickets = self.api.call(
                "GET", f"/api/v2/users/{user['id']}/tickets/requested.json"
            ).json()
            tables["tickets"] += [
                {key: t.get(key) for key in ("id", "subject", "status", "created_at")}
                for t in tickets.get("tickets", [])
            ]
        total = self.write_export(subject, tables)
        evidence = [f"{name}: exported {len(rows)}" for name, rows in tables.items()]
        return self.outcome(OutcomeStatus.DONE, evidence, affected=total)

    def _not_found(self) -> ProviderOutcome:
        return self.outcome(OutcomeStatus.NOT_FOUND, ["GET /api/v2/users/search.json: no user"])
