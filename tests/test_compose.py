"""docker-compose.yml, checked without a container engine (none runs here).

- The file follows the Compose Specification: its JSON schema, `tests/schemas/compose-spec.json`,
  is the copy that check-jsonschema 0.39.0 (PyPI) ships as its `vendor.compose-spec` schema
  (sha256 d549057e…10e64), taken from the compose-spec repository's `schema/compose-spec.json`;
  Apache-2.0, its licence beside it. Replace both from a newer check-jsonschema to move on.
- The Temporal images are the releases of the dev server `make run` starts.
- The one-shot Temporal jobs' scripts run, against stand-in `temporal` and `temporal-sql-tool`
  commands, with the environment the compose file gives them: the namespace job registers
  exactly the search attributes the workflows set (rights/search_attributes.py).
- The service's containers set only variables the settings know, and its workers cover every
  task queue between them, each a service that `--scale` can multiply.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import yaml
from temporalio.common import SearchAttributeKey

from rights import search_attributes
from rights.settings import Settings, WorkerQueue

ROOT = Path(__file__).parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
SCHEMA = json.loads((Path(__file__).parent / "schemas" / "compose-spec.json").read_text())
RIGHTS_IMAGE = "privacy-rights:latest"


def schema_errors(document: dict[str, Any]) -> list[str]:
    validator = jsonschema_rs.validator_for(SCHEMA)
    return [
        f"{'/'.join(map(str, error.instance_path))}: {error.message}"
        for error in validator.iter_errors(document)
    ]


def test_compose_file_follows_the_compose_specification() -> None:
    assert schema_errors(COMPOSE) == []


@pytest.mark.parametrize(
    ("service", "key", "value", "expected"),
    [
        ("worker", "deploy", {"replica": 3}, "'replica' was unexpected"),
        ("temporal", "depends_onn", {"temporal-schema": {}}, "'depends_onn' was unexpected"),
        ("temporal", "healthcheck", {"interval": 5}, "services/temporal/healthcheck/interval"),
    ],
)
def test_the_schema_refuses_what_compose_would(
    service: str, key: str, value: object, expected: str
) -> None:
    broken = copy.deepcopy(COMPOSE)
    broken["services"][service][key] = value

    assert any(expected in error for error in schema_errors(broken)), schema_errors(broken)


def test_temporal_images_are_the_dev_servers_releases() -> None:
    """`temporal --version` names the server and UI releases the dev server bundles."""
    version = subprocess.run(
        [Path(sys.executable).parent / "temporal", "--version"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = re.search(r"Server (\d+\.\d+\.\d+), UI (\d+\.\d+\.\d+)", version)
    assert found is not None, version
    server, ui = found.groups()

    assert {name: SERVICES[name]["image"] for name in SERVICES if "temporal" in name} == {
        "temporal-schema": f"temporalio/admin-tools:{server}",
        "temporal": f"temporalio/server:{server}",
        "temporal-namespace": f"temporalio/admin-tools:{server}",
        "temporal-ui": f"temporalio/ui:{ui}",
    }


def cli_type(key: SearchAttributeKey[Any]) -> str:
    """The `temporal` CLI's name of an attribute's type: KEYWORD_LIST is KeywordList."""
    return "".join(word.title() for word in key.indexed_value_type.name.split("_"))


WORKFLOW_ATTRIBUTES = {key.name: cli_type(key) for key in search_attributes.ALL}


def test_compose_registers_exactly_the_search_attributes_the_workflows_set() -> None:
    listed = SERVICES["temporal-namespace"]["environment"]["SEARCH_ATTRIBUTES"].split()

    assert dict(pair.split("=") for pair in listed) == WORKFLOW_ATTRIBUTES


def stand_in(bin_dir: Path, command: str, script: str) -> None:
    """A fake `command` that logs each call's arguments (one line, unit-separated) and then
    runs `script` to decide its exit status."""
    path = bin_dir / command
    path.write_text(
        "#!/bin/sh\n"
        'for arg; do printf "%s\\037" "$arg" >> "$CALLS"; done; echo >> "$CALLS"\n'
        f"{script}\n"
    )
    path.chmod(0o755)


def run_job(service: str, tmp_path: Path) -> list[list[str]]:
    """Run a one-shot job's script, as its compose service mounts and starts it, with its
    compose environment and stand-in commands; the calls they received, in order."""
    definition = SERVICES[service]
    mounts = {}
    for volume in definition["volumes"]:
        source, target, _ = volume.split(":")
        mounts[target] = ROOT / source
    shell, script = definition["command"]
    calls = tmp_path / "calls"
    environment = {
        **definition["environment"],
        "PATH": f"{tmp_path}:{os.environ['PATH']}",
        "CALLS": str(calls),
        "STATE": str(tmp_path),
        "PAUSE_SECONDS": "0",
    }
    subprocess.run([shell, mounts[script]], env=environment, check=True, capture_output=True)
    return [line.split("\x1f")[:-1] for line in calls.read_text().splitlines()]


# The namespace exists once created; the first attempt to register the attributes fails, as
# it does while a namespace just created has not reached every frontend.
TEMPORAL = """
case "$*" in
  *"namespace describe"*) test -e "$STATE/namespace" ;;
  *"namespace create"*) touch "$STATE/namespace" ;;
  *"search-attribute create"*) test -e "$STATE/tried" || { touch "$STATE/tried"; exit 1; } ;;
esac
"""


def registered(calls: list[list[str]]) -> dict[str, str]:
    """The attributes of the last `search-attribute create` call, by name."""
    create = [call for call in calls if call[:3] == ["operator", "search-attribute", "create"]][-1]
    names = [create[i + 1] for i, arg in enumerate(create) if arg == "--name"]
    types = [create[i + 1] for i, arg in enumerate(create) if arg == "--type"]
    return dict(zip(names, types, strict=True))


def test_namespace_job_creates_the_namespace_and_registers_every_attribute(
    tmp_path: Path,
) -> None:
    stand_in(tmp_path, "temporal", TEMPORAL)

    calls = run_job("temporal-namespace", tmp_path)

    creates = [call for call in calls if call[:3] == ["operator", "namespace", "create"]]
    assert creates == [
        [
            *["operator", "namespace", "create", "--address", "temporal:7233"],
            *["--namespace", "default", "--retention", "720h"],
        ]
    ]
    attempts = [call for call in calls if call[:3] == ["operator", "search-attribute", "create"]]
    assert len(attempts) == 2
    assert registered(calls) == WORKFLOW_ATTRIBUTES


def test_namespace_job_keeps_an_existing_namespace(tmp_path: Path) -> None:
    stand_in(tmp_path, "temporal", TEMPORAL)
    (tmp_path / "namespace").touch()

    calls = run_job("temporal-namespace", tmp_path)

    assert not [call for call in calls if call[:3] == ["operator", "namespace", "create"]]
    assert registered(calls) == WORKFLOW_ATTRIBUTES


def test_schema_job_sets_up_and_updates_both_temporal_databases(tmp_path: Path) -> None:
    stand_in(tmp_path, "temporal-sql-tool", "")

    calls = run_job("temporal-schema", tmp_path)

    versioned = "/etc/temporal/schema/postgresql/v12/{}/versioned"
    assert calls == [
        ["--db", "temporal", "create-database"],
        ["--db", "temporal", "setup-schema", "-v", "0.0"],
        ["--db", "temporal", "update-schema", "-d", versioned.format("temporal")],
        ["--db", "temporal_visibility", "create-database"],
        ["--db", "temporal_visibility", "setup-schema", "-v", "0.0"],
        ["--db", "temporal_visibility", "update-schema", "-d", versioned.format("visibility")],
    ]
    # temporal-sql-tool reads the password from the environment, never the command line.
    environment = SERVICES["temporal-schema"]["environment"]
    assert environment["SQL_PLUGIN"] == "postgres12"
    assert "SQL_PASSWORD" in environment


def test_the_services_containers_set_only_variables_the_settings_read() -> None:
    """Settings ignore unknown variables, so a misspelt one would be silently left out."""
    rights_services = {name: s for name, s in SERVICES.items() if s["image"] == RIGHTS_IMAGE}
    assert set(rights_services) == {"rights-schema", "worker", "provider-worker", "api", "codec"}

    unknown = {
        f"{name}: {variable}"
        for name, service in rights_services.items()
        for variable in service["environment"]
        if variable.lower() not in Settings.model_fields
    }
    assert unknown == set()


def test_workers_cover_every_task_queue_and_scale_as_replicas() -> None:
    workers = {
        name: service
        for name, service in SERVICES.items()
        if service["image"] == RIGHTS_IMAGE and "command" not in service
    }
    assert set(workers) == {"worker", "provider-worker"}

    polled = [service["environment"]["WORKER_QUEUES"] for service in workers.values()]
    assert sorted(polled) == sorted(WorkerQueue)
    for service in workers.values():
        assert service["deploy"]["replicas"] >= 1
        # A fixed name or host port would stop `--scale` from starting a second replica.
        assert "container_name" not in service
        assert "ports" not in service
