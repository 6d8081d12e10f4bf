"""The SQL connector and the records store, on SQLite and (with TEST_DATABASE_URL) PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from temporalio.exceptions import ApplicationError

from activities.providers.connector import Connector, Journal, Parts, Subject
from activities.providers.kinds import connector_for
from activities.records import NoticeLedger, RecordActivities
from dev.sample_service import (
    SAMPLE_PEOPLE,
    accounts,
    add_person,
    appointments,
    create_service_schema,
    messages,
    payments,
)
from rights.activity_inputs import WriteRecordInput
from rights.deadlines import due_dates
from rights.models import (
    Channel,
    CorrectionItem,
    OutcomeStatus,
    ProviderOutcome,
    RequestState,
    RequestStatus,
    StepName,
    StepState,
)
from rights.plans import ProviderAction
from rights.registry import ProviderEntry
from rights.terms import Jurisdiction, RequestType
from stores.engines import create_engine
from stores.records import compliance_records, create_records_schema, notice_ledger
from tests.harness import MARIA, default_registry

JAMES = SAMPLE_PEOPLE[1]


@pytest.fixture
def service_db(database: Engine) -> Engine:
    create_service_schema(database)
    add_person(database, *MARIA)
    add_person(database, *JAMES)
    return database


def service_entry() -> ProviderEntry:
    return default_registry().provider("service-database")


def person(
    *,
    email: str = MARIA[0],
    corrections: list[CorrectionItem] | None = None,
    specific_pieces: bool = False,
) -> Subject:
    """The person a request is about, as the connector is told."""
    return Subject(
        request_id="req-00000001",
        email=email,
        corrections={item.field: item.corrected_value for item in corrections or []},
        specific_pieces=specific_pieces,
    )


def sql_connector(engine: Engine, tmp_path: Path, entry: ProviderEntry | None = None) -> Connector:
    connector = connector_for(
        entry or service_entry(), Parts({}, tmp_path, Journal(engine), engine)
    )
    assert connector is not None
    return connector


def count(engine: Engine, table: sa.Table) -> int:
    with engine.connect() as db:
        return int(db.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def test_deletion_follows_each_tables_policy(service_db: Engine, tmp_path: Path) -> None:
    connector = sql_connector(service_db, tmp_path)

    outcome = connector.fulfil(person(), ProviderAction.DELETE)

    assert outcome.status is OutcomeStatus.RETAINED
    assert [r.category for r in outcome.retained] == ["payment records"]
    assert "26 U.S.C. §6001" in outcome.retained[0].basis
    assert outcome.records_affected == 5  # 2 appointments, 2 messages, 1 account masked
    with service_db.connect() as db:
        maria, james = db.execute(sa.select(accounts).order_by(accounts.c.id)).all()
    assert maria.email.endswith("@deleted.invalid") and maria.full_name == "[redacted]"
    assert maria.phone is None and maria.date_of_birth is None and maria.postal_code is None
    assert james.email == JAMES[0] and james.phone == JAMES[2]
    assert count(service_db, appointments) == 2 and count(service_db, messages) == 2
    assert count(service_db, payments) == 2


def test_repeated_deletion_after_a_crash_acts_once(service_db: Engine, tmp_path: Path) -> None:
    first = sql_connector(service_db, tmp_path).fulfil(person(), ProviderAction.DELETE)
    restarted_worker = sql_connector(service_db, tmp_path)

    again = restarted_worker.fulfil(person(), ProviderAction.DELETE)

    assert again == first
    assert again.status is OutcomeStatus.RETAINED
    assert count(service_db, appointments) == 2


def test_unknown_person_is_not_found(service_db: Engine, tmp_path: Path) -> None:
    connector = sql_connector(service_db, tmp_path)

    outcome = connector.fulfil(person(email="nobody@example.org"), ProviderAction.DELETE)

    assert outcome.status is OutcomeStatus.NOT_FOUND
    assert count(service_db, appointments) == 4


def test_email_lookup_ignores_case(service_db: Engine, tmp_path: Path) -> None:
    connector = sql_connector(service_db, tmp_path)

    outcome = connector.fulfil(person(email=MARIA[0].upper()), ProviderAction.OPT_OUT)

    assert outcome.status is OutcomeStatus.DONE
    with service_db.connect() as db:
        flags = dict(db.execute(sa.select(accounts.c.email, accounts.c.sale_opt_out)).all())
    assert flags == {MARIA[0]: True, JAMES[0]: False}


def test_access_exports_every_linked_row(service_db: Engine, tmp_path: Path) -> None:
    connector = sql_connector(service_db, tmp_path)

    outcome = connector.fulfil(person(specific_pieces=True), ProviderAction.ACCESS)

    export = (tmp_path / "req-00000001" / "sources" / "service-database.json").read_text()
    assert outcome.status is OutcomeStatus.DONE and outcome.records_affected == 6
    assert MARIA[0] in export and "Could you send me my lab results?" in export
    assert JAMES[0] not in export
    assert MARIA[0] not in outcome.model_dump_json()


def test_a_categories_answer_counts_rows_and_keeps_no_content(
    service_db: Engine, tmp_path: Path
) -> None:
    connector = sql_connector(service_db, tmp_path)

    outcome = connector.fulfil(person(), ProviderAction.ACCESS)

    export = json.loads(
        (tmp_path / "req-00000001" / "sources" / "service-database.json").read_text()
    )
    assert export["counts"] == {"accounts": 1, "appointments": 2, "messages": 2, "payments": 1}
    assert "tables" not in export and MARIA[0] not in json.dumps(export)
    assert outcome.records_affected == 6


def test_correction_changes_only_correctable_columns(service_db: Engine, tmp_path: Path) -> None:
    connector = sql_connector(service_db, tmp_path)
    corrections = [
        CorrectionItem(field="postal_code", corrected_value="94117"),
        CorrectionItem(field="email", corrected_value="maria@example.net"),
    ]

    outcome = connector.fulfil(person(corrections=corrections), ProviderAction.CORRECT)

    assert outcome.corrected_fields == ["postal_code"]
    assert outcome.operator_follow_up == "correct by hand: email"
    with service_db.connect() as db:
        row = db.execute(sa.select(accounts).where(accounts.c.email == MARIA[0])).one()
    assert row.postal_code == "94117"


def test_registry_naming_a_missing_table_is_a_permanent_error(
    service_db: Engine, tmp_path: Path
) -> None:
    entry = service_entry()
    assert entry.sql is not None
    broken_tables = [*entry.sql.tables, entry.sql.tables[1].model_copy(update={"name": "visits"})]
    broken = entry.model_copy(
        update={"sql": entry.sql.model_copy(update={"tables": broken_tables})}
    )

    with pytest.raises(ApplicationError) as raised:
        sql_connector(service_db, tmp_path, broken).fulfil(person(), ProviderAction.DELETE)

    assert raised.value.type == "ProviderMisconfigured" and raised.value.non_retryable
    assert count(service_db, appointments) == 4  # the transaction rolled back


def finished_state(status: RequestStatus, denial: str | None = None) -> RequestState:
    received = datetime(2026, 1, 30, 10, 0, tzinfo=UTC)
    dates = due_dates(Jurisdiction.US_CA, RequestType.DELETION, received.date())
    return RequestState(
        request_id="req-00000002",
        type=RequestType.DELETION,
        jurisdiction=Jurisdiction.US_CA,
        channel=Channel.WEB_FORM,
        received_at=received,
        status=status,
        due_dates=dates,
        respond_by=dates.respond_by,
        steps=[StepState(name=name) for name in StepName],
        denial_reason=denial,
        closed_at=datetime(2026, 2, 27, 12, 0, tzinfo=UTC),
    )


def test_record_is_upserted_and_kept_24_months(database: Engine) -> None:
    create_records_schema(database)
    records = RecordActivities(database)

    records.write_record(WriteRecordInput(state=finished_state(RequestStatus.RESPONDING)))
    records.write_record(
        WriteRecordInput(state=finished_state(RequestStatus.DENIED, "litigation hold"))
    )

    with database.connect() as db:
        rows = db.execute(sa.select(compliance_records)).all()
    assert len(rows) == 1
    row = rows[0]
    assert (row.status, row.denial_basis, row.request_type) == (
        "denied",
        "litigation hold",
        "deletion",
    )
    assert row.retain_until == date(2028, 2, 27)
    assert [step["name"] for step in row.steps] == [name.value for name in StepName]


def test_a_worker_that_loses_the_race_to_create_a_table_finds_it_done(
    database: Engine,
) -> None:
    # Two workers start together: between this one's look ("no notice_ledger yet") and its
    # CREATE TABLE, the other creates the table.
    raced: list[bool] = []

    def the_other_worker_creates_it_first(target: sa.Table, connection: Any, **_: Any) -> None:
        if not raced:
            raced.append(True)
            with database.begin() as other:
                other.execute(sa.schema.CreateTable(notice_ledger))

    sa.event.listen(notice_ledger, "before_create", the_other_worker_creates_it_first)
    try:
        create_records_schema(database)
    finally:
        sa.event.remove(notice_ledger, "before_create", the_other_worker_creates_it_first)

    assert raced == [True]
    assert set(sa.inspect(database).get_table_names()) >= {"notice_ledger", "compliance_records"}
    NoticeLedger(database).record("req-1", "receipt-1", "receipt", "msg-1", datetime.now(UTC))


def test_notice_ledger_remembers_each_key_once(database: Engine) -> None:
    create_records_schema(database)
    ledger = NoticeLedger(database)
    sent = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)

    assert ledger.sent_at("req-00000003", "receipt-1") is None
    ledger.record("req-00000003", "receipt-1", "receipt", "msg-1", sent)

    assert ledger.sent_at("req-00000003", "receipt-1") == sent
    with pytest.raises(sa.exc.IntegrityError):
        ledger.record("req-00000003", "receipt-1", "receipt", "msg-2", sent)


def test_a_database_error_reaches_no_log_and_no_failure_text(
    service_db: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A correction that breaks a constraint: neither value may reach the failure or a log."""
    entry = service_entry()
    assert entry.sql is not None
    tables = [
        table.model_copy(update={"correctable": [*table.correctable, "email"]})
        for table in entry.sql.tables
    ]
    lenient = entry.model_copy(update={"sql": entry.sql.model_copy(update={"tables": tables})})
    connector = sql_connector(service_db, tmp_path, lenient)
    taken = [CorrectionItem(field="email", corrected_value=JAMES[0])]

    with pytest.raises(ApplicationError) as failed:
        connector.fulfil(person(corrections=taken), ProviderAction.CORRECT)

    assert failed.value.type == "DatabaseError" and failed.value.non_retryable
    assert "IntegrityError" in str(failed.value) or "UniqueViolation" in str(failed.value)
    told = str(failed.value) + repr(failed.value.__cause__) + caplog.text
    assert JAMES[0] not in told and MARIA[0] not in told
    assert failed.value.__cause__ is None and failed.value.__suppress_context__


def test_engines_hide_bound_parameters() -> None:
    engine = create_engine("sqlite://")
    with pytest.raises(sa.exc.StatementError) as raised, engine.connect() as db:
        db.execute(sa.text("SELECT * FROM missing WHERE email = :email"), {"email": MARIA[0]})
    assert MARIA[0] not in str(raised.value)


def test_an_outcome_journalled_before_0_2_0_is_still_the_answer(
    service_db: Engine, tmp_path: Path
) -> None:
    """0.1.0 kept the SQL provider's outcomes in `privacy_actions`: a retry after the upgrade
    of an action committed before it finds that outcome, and acts no second time."""
    old = sa.Table(
        "privacy_actions",
        sa.MetaData(),
        sa.Column("request_id", sa.String(64), primary_key=True),
        sa.Column("provider", sa.String(64), primary_key=True),
        sa.Column("action", sa.String(32), primary_key=True),
        sa.Column("outcome", sa.JSON, nullable=False),
    )
    old.create(service_db)
    earlier = ProviderOutcome(
        provider="service-database",
        category="our app",
        status=OutcomeStatus.DONE,
        records_affected=5,
        evidence=["appointments: deleted 2 rows"],
    )
    with service_db.begin() as db:
        db.execute(
            old.insert().values(
                request_id="req-00000001",
                provider="service-database",
                action="delete",
                outcome=earlier.model_dump(mode="json"),
            )
        )

    outcome = sql_connector(service_db, tmp_path).fulfil(person(), ProviderAction.DELETE)

    assert outcome == earlier
    assert count(service_db, appointments) == 4  # Maria's and James's: nothing deleted again


def test_a_records_database_from_0_1_0_gains_the_appeal_columns_and_wider_laws(
    database: Engine,
) -> None:
    """0.1.0 created `compliance_records` without the appeal columns and with an 8-character
    jurisdiction; the columns are added and the jurisdiction widened, so a record of a request
    whose law is "undetermined" is written (PostgreSQL would refuse it otherwise)."""
    old = sa.MetaData()
    sa.Table(
        "compliance_records",
        old,
        *(
            sa.Column("jurisdiction", sa.String(8), nullable=False)
            if column.name == "jurisdiction"
            else column._copy()
            for column in compliance_records.columns
            if column.name not in ("appeal_of", "appeal")
        ),
    )
    old.create_all(database)

    create_records_schema(database)
    create_records_schema(database)  # and a second start changes nothing
    state = finished_state(RequestStatus.DENIED, "no answer").model_copy(
        update={"jurisdiction": Jurisdiction.UNDETERMINED}
    )
    RecordActivities(database).write_record(WriteRecordInput(state=state))

    columns = {column["name"] for column in sa.inspect(database).get_columns("compliance_records")}
    assert {"appeal_of", "appeal", "retain_until"} <= columns
    with database.connect() as db:
        assert db.execute(sa.select(compliance_records.c.jurisdiction)).scalar() == "undetermined"
