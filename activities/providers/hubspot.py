"""HubSpot: the CRM's contact records.

Follows https://developers.hubspot.com/docs/api-reference/legacy/crm/objects/contacts/gdpr/gdpr-delete-contact
(`POST /crm/v3/objects/contacts/gdpr-delete`, `{"objectId": email, "idProperty": "email"}`,
204), https://developers.hubspot.com/docs/api-reference/crm-contacts-v3 (search with
`filterGroups`) and https://developers.hubspot.com/docs/guides/apps/api-usage/usage-details
(ten-second rolling limit, 429). HubSpot blocklists the address it GDPR-deletes, even an
unknown one, so we search first and never call it for a person HubSpot does not hold.
"""

from __future__ import annotations

from typing import Any

from activities.providers.connector import ApiConnector, Step, Subject
from rights.models import OutcomeStatus, ProviderOutcome
from rights.plans import ProviderAction

PROPERTIES = ["email", "firstname", "lastname", "phone", "createdate", "lastmodifieddate"]
BLOCKLIST_NOTE = "HubSpot blocks this email address from being added as a contact again"


class HubSpotConnector(ApiConnector):
    def start(self, subject: Subject, action: ProviderAction, step: Step) -> ProviderOutcome:
        """Find the contact by email; delete it through GDPR delete, or export it."""
        if action is ProviderAction.ACCESS:
            contacts = self._search(subject.email)
            if not contacts:
                return self._not_found()
            rows = [{"id": c["id"], **c.get("properties", {})} for c in contacts]
            total = self.write_export(subject, {"contacts": rows})
            return self.outcome(OutcomeStatus.DONE, [f"contacts: exported {total}"], affected=total)
        if action is not ProviderAction.DELETE:
            raise self.unsupported(action)
        contact_ids = step.get("contact_ids")
        if contact_ids is None:
            contact_ids = [contact["id"] for contact in self._search(subject.email)]
            step.save(contact_ids=contact_ids)
        if not contact_ids:
            return self._not_found()
        # Repeat-safe: a second gdpr-delete of the same address answers 204 and changes nothing.
        self.api.call(
            "POST",
            "/crm/v3/objects/contacts/gdpr-delete",
            json={"objectId": subject.email, "idProperty": "email"},
        )
        return self.outcome(
            OutcomeStatus.DONE,
            [f"contact {', '.join(contact_ids)}: gdpr-delete 204"],
            affected=len(contact_ids),
            note=BLOCKLIST_NOTE,
        )

    def _search(self, email: str) -> list[dict[str, Any]]:
        body = {
            "filterGroups": [
                {"filters": [{"propertyName": "email", "operator": "EQ", "value": email}]}
            ],
            "properties": PROPERTIES,
            "limit": 100,
        }
        results: list[dict[str, Any]] = (
            self.api.call("POST", "/crm/v3/objects/contacts/search", json=body)
            .json()
            .get("results", [])
        )
        return results

    def _not_found(self) -> ProviderOutcome:
        return self.outcome(
            OutcomeStatus.NOT_FOUND, ["POST /crm/v3/objects/contacts/search: total 0"]
        )
