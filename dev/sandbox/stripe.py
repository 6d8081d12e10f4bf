"""Stripe's customer endpoints as documented at https://docs.stripe.com/api/customers.

List by exact, case-sensitive email (deleted customers are not listed); DELETE answers
`{"id", "object": "customer", "deleted": true}` and a second DELETE of the same id answers 404
`resource_missing`, while GET of a deleted customer still answers the `deleted: true` stub;
charges and payment methods are listed by `customer`; errors are `{"error": {"type", "code"}}`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dev.sandbox.server import Call, Handler, Reply, SandboxProvider


class StripeSandbox(SandboxProvider):
    name = "stripe"

    def __init__(self, token: str, *, port: int = 0, state_dir: Path | None = None) -> None:
        self.customers: dict[str, dict[str, Any]] = {}
        self.charges: list[dict[str, Any]] = []
        self.payment_methods: list[dict[str, Any]] = []
        super().__init__(token, port=port, state_dir=state_dir)

    def routes(self) -> list[tuple[str, str, Handler]]:
        """The endpoints this provider's API answers, as documented."""
        return [
            ("GET", r"/v1/customers", self._list_customers),
            ("GET", r"/v1/customers/(cus_\w+)", self._get_customer),
            ("DELETE", r"/v1/customers/(cus_\w+)", self._delete_customer),
            ("GET", r"/v1/charges", self._list_charges),
            ("GET", r"/v1/payment_methods", self._list_payment_methods),
        ]

    def error(self, status: int, code: str) -> Reply:
        """The provider's error body for `status` and `code`."""
        kind = "api_error" if status >= 500 else "invalid_request_error"
        return Reply(status, {"error": {"type": kind, "code": code, "message": "sandbox error"}})

    def rate_limited(self, wait_seconds: int) -> Reply:
        # stripe-python retries a 429 and sleeps for Retry-After when the API sends one.
        """The provider's 429, with its own rate-limit headers."""
        return Reply(
            429,
            {"error": {"type": "invalid_request_error", "code": "rate_limit"}},
            {"Stripe-Should-Retry": "true", "Retry-After": str(wait_seconds)},
        )

    def hold_person(self, email: str, full_name: str, account_id: str) -> None:
        """A customer with one charge and one card."""
        customer_id = f"cus_{self.new_id():06d}"
        self.customers[customer_id] = {
            "id": customer_id,
            "object": "customer",
            "email": email,
            "name": full_name,
            "created": 1767225600,
            "metadata": {"account_id": account_id},
        }
        self.charges.append(
            {
                "id": f"ch_{self.new_id():06d}",
                "object": "charge",
                "customer": customer_id,
                "amount": 12000,
                "currency": "usd",
                "status": "succeeded",
                "created": 1767312000,
                "description": "Therapy session",
            }
        )
        self.payment_methods.append(
            {
                "id": f"pm_{self.new_id():06d}",
                "object": "payment_method",
                "customer": customer_id,
                "type": "card",
                "card": {"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2030},
            }
        )

    def state(self) -> dict[str, Any]:
        """Customers (deleted ones as their stubs), charges and payment methods."""
        return {
            "customers": self.customers,
            "charges": self.charges,
            "payment_methods": self.payment_methods,
        }

    def restore_state(self, state: dict[str, Any]) -> None:
        """Hold what `state()` returned before a restart."""
        self.customers = state["customers"]
        self.charges = state["charges"]
        self.payment_methods = state["payment_methods"]

    @staticmethod
    def _page(items: list[dict[str, Any]], url: str) -> Reply:
        return Reply(200, {"object": "list", "data": items, "has_more": False, "url": url})

    def _list_customers(self, call: Call) -> Reply:
        email = call.arg("email")
        found = [
            c for c in self.customers.values() if not c.get("deleted") and c.get("email") == email
        ]
        return self._page(found, "/v1/customers")

    def _get_customer(self, call: Call, customer_id: str) -> Reply:
        customer = self.customers.get(customer_id)
        if customer is None:
            return self.error(404, "resource_missing")
        return Reply(200, customer)

    def _delete_customer(self, call: Call, customer_id: str) -> Reply:
        customer = self.customers.get(customer_id)
        if customer is None or customer.get("deleted"):
            return self.error(404, "resource_missing")
        self.customers[customer_id] = {"id": customer_id, "object": "customer", "deleted": True}
        self.payment_methods = [p for p in self.payment_methods if p["customer"] != customer_id]
        self.deleted(customer["metadata"]["account_id"])
        return Reply(200, {"id": customer_id, "object": "customer", "deleted": True})

    def _list_charges(self, call: Call) -> Reply:
        customer = call.arg("customer")
        return self._page([c for c in self.charges if c["customer"] == customer], "/v1/charges")

    def _list_payment_methods(self, call: Call) -> Reply:
        customer = call.arg("customer")
        return self._page(
            [p for p in self.payment_methods if p["customer"] == customer], "/v1/payment_methods"
        )
