"""WORKER_QUEUES: which task queues one worker process polls, so docker-compose.yml can scale
the request workflow's workers and the providers' workers apart."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from temporalio.testing import WorkflowEnvironment

from dev.sample_service import create_service_schema
from rights.registry import provider_task_queue
from rights.settings import Settings, SettingsError, load_settings
from tests.harness import default_registry
from worker import build_activities, build_workers


def worker_settings(data_dir: Path, **overrides: str) -> Settings:
    """Settings over a fresh service database, whose tables the SQL provider reads."""
    settings = load_settings(_env_file=None, data_dir=data_dir, **overrides)
    create_service_schema(sa.create_engine(settings.service_url))
    return settings


@pytest.mark.parametrize(
    ("worker_queues", "polled"),
    [
        ("main", {"main"}),
        ("providers", {"service-database"}),
        ("main,providers", {"main", "service-database"}),
        (None, {"main", "service-database"}),
    ],
)
async def test_worker_queues_choose_what_one_process_polls(
    env: WorkflowEnvironment, tmp_path: Path, worker_queues: str | None, polled: set[str]
) -> None:
    chosen = {} if worker_queues is None else {"worker_queues": worker_queues}
    settings = worker_settings(tmp_path, **chosen)
    activities = build_activities(settings, default_registry(manual=False), {})
    main = f"split-{uuid.uuid4().hex[:8]}"
    queues = {"main": main, "service-database": provider_task_queue(main, "service-database")}

    workers = build_workers(env.client, settings, activities, task_queue=main)

    assert {w.task_queue for w in workers} == {queues[name] for name in polled}
    with_workflows = {w.task_queue for w in workers if w.config()["workflows"]}
    assert with_workflows == ({main} if "main" in polled else set())


async def test_a_provider_worker_without_automated_providers_refuses_to_start(
    env: WorkflowEnvironment, tmp_path: Path
) -> None:
    settings = worker_settings(tmp_path, worker_queues="providers")
    manual_only = default_registry(manual=True)
    manual_only = manual_only.model_copy(
        update={"providers": [p for p in manual_only.providers if p.kind == "manual"]}
    )
    activities = build_activities(settings, manual_only, {})

    with pytest.raises(SettingsError, match="WORKER_QUEUES: no queue to poll"):
        build_workers(env.client, settings, activities, task_queue=f"none-{uuid.uuid4().hex[:8]}")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("notices", "WORKER_QUEUES: Input should be 'main' or 'providers'"),
        (" , ", "WORKER_QUEUES: Frozenset should have at least 1 item"),
    ],
)
def test_worker_queues_names_only_known_queues(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: str
) -> None:
    monkeypatch.setenv("WORKER_QUEUES", value)

    with pytest.raises(SettingsError) as refused:
        load_settings(_env_file=None)

    assert expected in str(refused.value)
