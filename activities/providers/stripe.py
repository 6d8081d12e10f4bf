"""Stripe: the payment processor's customer records.

Follows https://docs.stripe.com/api/customers/list (`GET /v1/customers?email=`, exact and
case-sensitive, deleted customers not listed), https://docs.stripe.com/api/customers/delete
(`DELETE /v1/customers/{id}` permanently deletes the customer and its card details, cancels
subscriptions; a deleted customer still answers GET with `deleted: true`),
https://docs.stripe.com/api/charges/list and https://docs.stripe.com/api/payment_methods/list
(`?customer=`), https://docs.stripe.com/rate-limits and https://docs.stripe.com/error-low-level
(429 with `Stripe-Should-Retry`). Charges themselves are kept by Stripe as the processor's
financial records; the registry's `retained` rule says so in the outcome.
"""

from __future__ import annotations

from typing import Any

from temporalio.exceptions import ApplicationError

from activities.providers.connector import ApiConnector, Step, Subject
from rights.models import OutcomeStatus, ProviderOutcome
from rights.plans import ProviderAction

PAGE = 100


class StripeConnector(ApiConnector):
    def start(self, subject: Subject, action: ProviderAction, step: Step) -> ProviderOutcome:
        """Find the customers by email; delete them, or export them with charges and cards."""
        customers = step.get("customers")
        if customers is None:
            customers = self._find(subject.email)
            step.save(customers=customers)
        if not customers:
            return self.outcome(OutcomeStatus.NOT_FOUND, ["GET /v1/customers?email=: no customer"])
        if action is ProviderAction.DELETE:
            return self._delete(customers)
        if action is ProviderAction.ACCESS:
            return self._export(subject, customers)
        raise self.unsupported(action)

    def _find(self, email: str) -> list[str]:
        found: list[str] = []
        params = {"email": email, "limit": str(PAGE)}
        while True:
            page = self.api.call("GET", "/v1/customers", params=params).json()
            found += [customer["id"] for customer in page["data"]]
            if not page.get("has_more"):
                return found
            params["starting_after"] = found[-1]

    def _delete(self, customers: list[str]) -> ProviderOutcome:
        evidence = []
        deleted = 0
        for customer in customers:
            response = self.api.call("DELETE", f"/v1/customers/{customer}", missing_ok=True)
            if response.status_code == 200 and response.json().get("deleted"):
                deleted += 1
                evidence.append(f"{customer}: DELETE 200 deleted=true")
                continue
            # Gone already: a retry after a lost response, or deleted by someone else.
            check = self.api.call("GET", f"/v1/customers/{customer}", missing_ok=True)
            if check.status_code == 200 and check.json().get("deleted") is not True:
                raise ApplicationError(
                    f"{self.entry.name}: {customer} refused DELETE with 404 but still exists",
                    type="ProviderRejected",
                    non_retryable=True,
                )
            state = "deleted=true" if check.status_code == 200 else "404"
            evidence.append(
                f"{customer}: DELETE 404 resource_missing, GET {state}: already deleted"
            )
        return self.outcome(OutcomeStatus.DONE, evidence, affected=deleted)

    def _export(self, subject: Subject, customers: list[str]) -> ProviderOutcome:
        tables: dict[str, list[dict[str, Any]]] = {
            "customers": [],
            "charges": [],
            "payment_methods": [],
        }
        for customer in customers:
            record = self.api.call("GET", f"/v1/customers/{customer}").json()
            tables["customers"].append(
                {
                    key: record.get(key)
                    for key in ("id", "email", "name", "phone", "created", "address")
                }
            )
            for charge in self._list("/v1/charges", customer):
                tables["charges"].append(
                    {
                        key: charge.get(key)
                        for key in ("id", "amount", "currency", "status", "created", "description")
                    }
                )
            for method in self._list("/v1/payment_methods", customer):
                card = method.get("card") or {}
                tables["payment_methods"].append(
                    {
                        "id": method.get("id"),
                        "type": method.get("type"),
                        "brand": card.get("brand"),
                        "last4": card.get("last4"),
                        "expires": f"{card.get('exp_month')}/{card.get('exp_year')}"
                        if card
                        else None,
                    }
                )
        total = self.write_export(subject, tables)
        evidence = [f"{name}: exported {len(rows)}" for name, rows in tables.items()]
        return self.outcome(OutcomeStatus.DONE, evidence, affected=total)

    def _list(self, path: str, customer: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        params = {"customer": customer, "limit": str(PAGE)}
        while True:
            page = self.api.call("GET", path, params=params).json()
            items += page["data"]
            if not page.get("has_more"):
                return items
            params["starting_after"] = items[-1]["id"]
