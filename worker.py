"""Runs the Temporal worker: the request workflow and every activity, dependencies injected."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Sequence
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.databases import create_engine
from activities.identity import IdentityActivities
from activities.links import LinkTokens, load_link_secret
from activities.mail import Mailer, OutboxMailer, SendGridMailer
from activities.notices import NoticeActivities, NoticeTemplates
from activities.providers import ProviderActivities
from activities.providers.registry import Registry, load_registry
from activities.providers.sql import SqlConnector
from activities.records import NoticeLedger, RecordActivities, create_records_schema
from activities.reports import ReportActivities
from logs import configure_logging
from rights.settings import MailBackend, Settings, load_settings
from rights_client import connect
from workflows.rights_request import RightsRequestWorkflow

PASSED_THROUGH = (
    "rights",
    "pydantic",
    "pydantic_core",
    "holidays",
    "email_validator",
    "dns",
    "idna",
)


def workflow_runner() -> SandboxedWorkflowRunner:
    """Pass the pure shared modules through, so the sandbox does not re-import them per run."""
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSED_THROUGH)
    )


def build_mailer(settings: Settings) -> Mailer:
    if settings.mail_backend is MailBackend.SENDGRID:
        assert settings.sendgrid_api_key is not None
        return SendGridMailer(
            settings.sendgrid_api_key.get_secret_value(),
            host=settings.sendgrid_host,
            timeout_seconds=settings.mail_timeout_seconds,
        )
    return OutboxMailer(settings.outbox_dir)


def build_activities(settings: Settings, registry: Registry | None = None) -> list[Any]:
    registry = registry or load_registry(settings.provider_registry)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    records_engine = create_engine(settings.records_url)
    service_engine = create_engine(settings.service_url)
    create_records_schema(records_engine)
    links = LinkTokens(load_link_secret(settings), settings.public_base_url)
    notices = NoticeActivities(
        settings, build_mailer(settings), NoticeLedger(records_engine), links, NoticeTemplates()
    )
    connectors = {
        entry.name: SqlConnector(service_engine, entry, settings.reports_dir)
        for entry in registry.providers
        if entry.kind == "sql"
    }
    providers = ProviderActivities(registry, connectors)
    return [
        notices.send_notice,
        IdentityActivities(service_engine, registry.identity).match_identity,
        providers.plan_providers,
        providers.fulfil_at_provider,
        ReportActivities(settings.reports_dir).publish_report,
        RecordActivities(records_engine).write_record,
    ]


def build_worker(
    client: Client, settings: Settings, activities: Sequence[Any], *, task_queue: str | None = None
) -> Worker:
    return Worker(
        client,
        task_queue=task_queue or settings.task_queue,
        workflows=[RightsRequestWorkflow],
        activities=activities,
        # Sync activities run on these threads; the worker takes no more activity tasks than it
        # can run at once, so none waits in a queue while its start-to-close timeout runs.
        activity_executor=concurrent.futures.ThreadPoolExecutor(
            max_workers=settings.activity_concurrency
        ),
        max_concurrent_activities=settings.activity_concurrency,
        workflow_runner=workflow_runner(),
        max_cached_workflows=settings.workflow_cache_size,
    )


async def main() -> None:
    configure_logging()
    settings = load_settings()
    client = await connect(settings)
    worker = build_worker(client, settings, build_activities(settings))
    logging.getLogger("worker").info("worker_started", extra={"task_queue": settings.task_queue})
    await worker.run()


if __name__ == "__main__":
    asyncio.run(main())
