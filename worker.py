"""Runs the Temporal worker: the request workflow and every activity, dependencies injected."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import temporalio.bridge.proto.workflow_activation as activation
import temporalio.bridge.proto.workflow_completion as completion
import temporalio.workflow
from temporalio.client import Client
from temporalio.converter import (
    DataConverter,
    SerializationContext,
    StorageDriverStoreContext,
    WithSerializationContext,
)
from temporalio.worker import (
    PollerBehaviorAutoscaling,
    UnsandboxedWorkflowRunner,
    Worker,
    WorkflowInstance,
    WorkflowInstanceDetails,
    WorkflowRunner,
)
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.fulfilment import ProviderActivities
from activities.identity import AccountDirectory, IdentityActivities
from activities.mail import Mailer, OutboxMailer, SendGridMailer
from activities.notices import NoticeActivities, NoticeTemplates
from activities.overdue_sweep import OverdueSweepActivities
from activities.providers.access_reports import AccessReportsConnector
from activities.providers.connector import Journal, Parts
from activities.providers.kinds import automated, connector_for, load_registry
from activities.record_keeping import RecordKeepingActivities
from activities.records import NoticeLedger, RecordActivities
from activities.reports import ReportActivities
from client.connection import connect, load_link_secret
from logs import configure_logging
from rights.links import LinkTokens
from rights.registry import Registry, RegistryError, provider_task_queue
from rights.settings import (
    AppEnv,
    MailBackend,
    Settings,
    SettingsError,
    WorkerQueue,
    load_settings,
)
from stores.engines import create_engine
from stores.records import create_records_schema
from workflows.appeal import AppealWorkflow
from workflows.correspondence import CorrespondenceWorkflow
from workflows.record_keeping import (
    MetricsReportWorkflow,
    OverdueSweepWorkflow,
    RecordsPurgeWorkflow,
)
from workflows.report_expiry import ReportExpiryWorkflow
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


def workflow_runner(converter: DataConverter, *, strict: bool = False) -> WorkflowRunner:
    """How the workflows run: outside the sandbox, or with `strict` (WORKFLOW_SANDBOX_STRICT,
    set by the tests and the replay tests) inside it, `workflows/` re-imported per run and every
    call it makes checked against the sandbox's restrictions.

    The sandbox checks only the code it imports itself. Re-importing `workflows/` into a fresh
    sandbox per run took half the worker's CPU (0.5.1 passed it through instead, and with it
    every call it makes went unchecked); what the sandbox then still cost, entering it for each
    activation and each payload's serialization context, was a fifth of the worker's CPU and
    checked nothing. So the checks run where they find something, in the test suite that drives
    every workflow path and replays every saved history, and production runs the same code
    without the sandbox. The pure shared modules are imported once either way.
    """
    if not strict:
        return UnsandboxedWorkflowRunner()
    return ContextFreeRunner(
        SandboxedWorkflowRunner(
            restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSED_THROUGH)
        ),
        converter,
    )


class ContextFreeRunner(WorkflowRunner):
    """The sandbox, without entering it to ask each payload's serialization context.

    The worker asks a run for the context of every payload it encodes or decodes, three times
    (references, external storage, codec), and a sandboxed run answers by compiling and running
    a line of code inside the sandbox: a fifth of the worker's CPU in `make bench`, and a share
    of the test suite's time. Those passes only run the codec (the run converts its own
    payloads, in the sandbox, with its context), and our codec reads no context, so every
    payload is sealed the same without one; a codec that does read one is refused here rather
    than silently given none.
    """

    def __init__(self, sandbox: WorkflowRunner, converter: DataConverter) -> None:
        if (
            isinstance(converter.payload_codec, WithSerializationContext)
            or converter.external_storage is not None
        ):
            raise TypeError(
                "the payload codec reads serialization contexts, or payloads are stored "
                "externally: run the workflows in the plain SandboxedWorkflowRunner"
            )
        self._sandbox = sandbox

    def prepare_workflow(self, defn: temporalio.workflow._Definition) -> None:
        self._sandbox.prepare_workflow(defn)

    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        return ContextFreeInstance(self._sandbox.create_instance(det))

    def set_worker_level_failure_exception_types(
        self, types: Sequence[type[BaseException]]
    ) -> None:
        self._sandbox.set_worker_level_failure_exception_types(types)


class ContextFreeInstance(WorkflowInstance):
    """A sandboxed run that answers "no context" for its payloads without entering the
    sandbox; everything else is the sandboxed run's own."""

    def __init__(self, sandboxed: WorkflowInstance) -> None:
        self._sandboxed = sandboxed

    def activate(
        self, act: activation.WorkflowActivation
    ) -> completion.WorkflowActivationCompletion:
        return self._sandboxed.activate(act)

    def get_serialization_context(self, command_info: Any) -> SerializationContext | None:
        return None

    def get_external_store_context(self, command_info: Any) -> StorageDriverStoreContext:
        return StorageDriverStoreContext(target=None)

    def get_info(self) -> temporalio.workflow.Info:
        return self._sandboxed.get_info()

    def get_thread_id(self) -> int | None:
        return self._sandboxed.get_thread_id()


def build_mailer(settings: Settings) -> Mailer:
    """SendGrid or the outbox, as MAIL_BACKEND says."""
    if settings.mail_backend is MailBackend.SENDGRID:
        assert settings.sendgrid_api_key is not None
        return SendGridMailer(
            settings.sendgrid_api_key.get_secret_value(),
            host=settings.sendgrid_host,
            timeout_seconds=settings.mail_timeout_seconds,
        )
    return OutboxMailer(settings.outbox_dir)


@dataclass
class Activities:
    """Every activity the worker runs, split by the task queue each one polls."""

    main: list[Any]
    providers: ProviderActivities
    registry: Registry


def build_activities(
    settings: Settings,
    registry: Registry | None = None,
    environ: Mapping[str, str] = os.environ,
) -> Activities:
    """Every activity, its dependencies built from the settings and the registry."""
    registry = registry or load_registry(settings.provider_registry)
    sandboxes = [e.name for e in registry.providers if e.api is not None and e.api.sandbox]
    if settings.app_env is AppEnv.PRODUCTION and sandboxes:
        raise RegistryError(
            f"PROVIDER_REGISTRY: sandbox providers in production: {', '.join(sandboxes)}"
        )
    plain = [
        e.name for e in registry.providers if e.api and not e.api.base_url.startswith("https://")
    ]
    if settings.app_env is AppEnv.PRODUCTION and plain:
        raise RegistryError(
            f"PROVIDER_REGISTRY: base_url must be https:// in production: {', '.join(plain)}"
        )
    for name in sandboxes:
        logging.getLogger("worker").warning("provider_is_sandbox", extra={"provider": name})
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    records_engine = create_engine(settings.records_url)
    service_engine = create_engine(settings.service_url)
    create_records_schema(records_engine)
    link_secret = load_link_secret(settings)
    links = LinkTokens(link_secret, settings.public_base_url)
    reports = ReportActivities(settings.reports_dir, registry, link_secret)
    mailer, ledger, templates = (
        build_mailer(settings),
        NoticeLedger(records_engine),
        NoticeTemplates(),
    )
    notices = NoticeActivities(settings, mailer, ledger, links, templates)
    sweep = OverdueSweepActivities(settings, mailer, ledger, templates)
    journal = Journal(records_engine)
    parts = Parts(environ, settings.reports_dir, journal, service_engine)
    connectors = {
        entry.name: connector
        for entry in registry.providers
        if (connector := connector_for(entry, parts)) is not None
    }
    providers = ProviderActivities(
        registry,
        settings.task_queue,
        connectors,
        AccountDirectory(service_engine, registry.identity),
        AccessReportsConnector(journal, settings.reports_dir, link_secret),
    )
    records = RecordActivities(records_engine)
    record_keeping = RecordKeepingActivities(
        records_engine, settings.reports_dir, settings.metrics_dir
    )
    main = [
        # Also here for runs planned before providers had queues of their own (task_queue None).
        providers.fulfil_at_provider,
        notices.send_notice,
        IdentityActivities(service_engine, registry.identity).match_identity,
        providers.plan_providers,
        reports.publish_report,
        reports.schedule_report_expiry,
        reports.delete_report,
        records.write_record,
        records.write_correspondence_record,
        record_keeping.purge_expired_records,
        record_keeping.report_metrics,
        sweep.sweep_overdue,
    ]
    return Activities(main=main, providers=providers, registry=registry)


def build_workers(
    client: Client, settings: Settings, activities: Activities, *, task_queue: str | None = None
) -> list[Worker]:
    """The request workflow's worker, and one worker per automated provider's task queue, as
    far as WORKER_QUEUES asks: a deployment runs them in separate processes to scale each apart.

    A provider's queue carries the server-side rate limit from the registry
    (`max_task_queue_activities_per_second`), so its published limit holds however many
    workers run, and its concurrency caps how many calls this worker makes at once.
    """
    task_queue = task_queue or settings.task_queue
    workers: list[Worker] = []
    if WorkerQueue.MAIN in settings.worker_queues:
        workers.append(
            Worker(
                client,
                task_queue=task_queue,
                workflows=[
                    RightsRequestWorkflow,
                    AppealWorkflow,
                    ReportExpiryWorkflow,
                    CorrespondenceWorkflow,
                    RecordsPurgeWorkflow,
                    MetricsReportWorkflow,
                    OverdueSweepWorkflow,
                ],
                activities=activities.main,
                # Sync activities run on these threads; the worker takes no more activity tasks
                # than it can run at once, so none waits in a queue while its timeout runs.
                activity_executor=concurrent.futures.ThreadPoolExecutor(
                    max_workers=settings.activity_concurrency
                ),
                max_concurrent_activities=settings.activity_concurrency,
                workflow_runner=workflow_runner(
                    client.data_converter, strict=settings.workflow_sandbox_strict
                ),
                max_cached_workflows=settings.workflow_cache_size,
                # A burst of new requests waits on polls of the workflow queue: five fixed
                # pollers (one of them for new runs) left the first task of a burst of 100
                # waiting 2.3 s at the median; the server's feedback scales them instead.
                workflow_task_poller_behavior=PollerBehaviorAutoscaling(),
                nonsticky_to_sticky_poll_ratio=1.0,
                activity_task_poller_behavior=PollerBehaviorAutoscaling(),
            )
        )
    for entry in activities.registry.providers:
        if WorkerQueue.PROVIDERS not in settings.worker_queues or not automated(entry):
            continue
        concurrency = entry.rate.concurrency if entry.rate else settings.activity_concurrency
        workers.append(
            Worker(
                client,
                task_queue=provider_task_queue(task_queue, entry.name),
                activities=[
                    activities.providers.fulfil_at_provider,
                    activities.providers.poll_provider_job,
                ],
                activity_executor=concurrent.futures.ThreadPoolExecutor(max_workers=concurrency),
                max_concurrent_activities=concurrency,
                max_task_queue_activities_per_second=entry.rate.per_second if entry.rate else None,
            )
        )
    if not workers:
        # A process polling nothing would look healthy while no request moves.
        raise SettingsError(
            "WORKER_QUEUES: no queue to poll (the provider registry has no automated provider)"
        )
    return workers


async def run_workers(workers: Sequence[Worker]) -> None:
    """Run the workers until cancelled."""
    async with contextlib.AsyncExitStack() as stack:
        for temporal_worker in workers:
            await stack.enter_async_context(temporal_worker)
        await asyncio.Event().wait()


async def main() -> None:
    """The worker process."""
    configure_logging()
    settings = load_settings()
    client = await connect(settings)
    workers = build_workers(client, settings, build_activities(settings))
    logging.getLogger("worker").info(
        "worker_started", extra={"task_queues": [w.task_queue for w in workers]}
    )
    await run_workers(workers)


if __name__ == "__main__":
    asyncio.run(main())
