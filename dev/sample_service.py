"""A sample of the service's own database: accounts, appointments, messages and payments.

`make run` seeds it under `var/` so a submitted request runs against real rows; the tests build
the same schema on SQLite and PostgreSQL. Production points SERVICE_DATABASE_URL at the real
database and describes its tables in the provider registry instead.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

metadata = sa.MetaData()

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("email", sa.String(320), nullable=False, unique=True),
    sa.Column("full_name", sa.String(200), nullable=False),
    sa.Column("phone", sa.String(32)),
    sa.Column("date_of_birth", sa.String(10)),
    sa.Column("postal_code", sa.String(16)),
    sa.Column("sale_opt_out", sa.Boolean, nullable=False, default=False),
    sa.Column("limit_sensitive_use", sa.Boolean, nullable=False, default=False),
    # GDPR Art. 18 restriction and Art. 21 objection / Art. 7(3) consent withdrawn.
    sa.Column("processing_restricted", sa.Boolean, nullable=False, default=False),
    sa.Column("processing_objected", sa.Boolean, nullable=False, default=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)
appointments = sa.Table(
    "appointments",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("account_id", sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("scheduled_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("clinician", sa.String(200), nullable=False),
    sa.Column("reason", sa.String(500)),
)
messages = sa.Table(
    "messages",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("account_id", sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("direction", sa.String(8), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
)
payments = sa.Table(
    "payments",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("account_id", sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("paid_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("amount_cents", sa.Integer, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("card_last4", sa.String(4)),
)


def create_service_schema(engine: Engine) -> None:
    """Create the sample service's tables where they do not exist."""
    metadata.create_all(engine)


SAMPLE_PEOPLE = [
    ("maria.lopez@example.com", "Maria Lopez", "+1 415 555 0101", "1984-03-12", "94110"),
    ("james.chen@example.com", "James Chen", "+1 303 555 0102", "1979-11-02", "80202"),
    ("aoife.byrne@example.ie", "Aoife Byrne", "+353 1 555 0103", "1991-07-23", "D02 X285"),
]


def add_person(
    engine: Engine,
    email: str,
    full_name: str,
    phone: str,
    date_of_birth: str,
    postal_code: str,
) -> int:
    """One account with two appointments, two messages and a payment, as a patient would have."""
    created = datetime(2025, 2, 1, 9, 0, tzinfo=UTC)
    with engine.begin() as connection:
        account_id = connection.execute(
            accounts.insert().values(
                email=email,
                full_name=full_name,
                phone=phone,
                date_of_birth=date_of_birth,
                postal_code=postal_code,
                sale_opt_out=False,
                limit_sensitive_use=False,
                processing_restricted=False,
                processing_objected=False,
                created_at=created,
            )
        ).inserted_primary_key[0]  # type: ignore[index]
        connection.execute(
            appointments.insert(),
            [
                {
                    "account_id": account_id,
                    "scheduled_at": datetime(2025, 3, day, 15, 30, tzinfo=UTC),
                    "clinician": "Dr. Priya Raman",
                    "reason": reason,
                }
                for day, reason in ((4, "annual check-up"), (18, "follow-up: blood test results"))
            ],
        )
        connection.execute(
            messages.insert(),
            [
                {
                    "account_id": account_id,
                    "sent_at": datetime(2025, 3, 5, 10, 0, tzinfo=UTC),
                    "direction": "in",
                    "body": "Could you send me my lab results?",
                },
                {
                    "account_id": account_id,
                    "sent_at": datetime(2025, 3, 5, 12, 0, tzinfo=UTC),
                    "direction": "out",
                    "body": "Your results are in your portal.",
                },
            ],
        )
        connection.execute(
            payments.insert().values(
                account_id=account_id,
                paid_at=datetime(2025, 3, 4, 16, 0, tzinfo=UTC),
                amount_cents=4500,
                currency="USD",
                card_last4="4242",
            )
        )
    return int(account_id)


def seed_sample_service(engine: Engine) -> int:
    """Create the schema and the sample people once; return how many accounts exist."""
    create_service_schema(engine)
    with engine.connect() as connection:
        existing = connection.execute(sa.select(sa.func.count()).select_from(accounts)).scalar()
    if not existing:
        for person in SAMPLE_PEOPLE:
            add_person(engine, *person)
    with engine.connect() as connection:
        return int(
            connection.execute(sa.select(sa.func.count()).select_from(accounts)).scalar_one()
        )


def sample_people(engine: Engine) -> list[tuple[str, str, str]]:
    """(email, full name, account id) of every account: what `make run`'s sandboxes hold."""
    with engine.connect() as connection:
        rows = connection.execute(sa.select(accounts.c.email, accounts.c.full_name, accounts.c.id))
        return [(email, name, str(account_id)) for email, name, account_id in rows]


__all__ = [
    "SAMPLE_PEOPLE",
    "add_person",
    "create_service_schema",
    "sample_people",
    "seed_sample_service",
]
