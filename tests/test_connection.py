"""How the Temporal settings reach `Client.connect`: the local dev server, Temporal Cloud with
an API key or a client certificate, and a self-hosted cluster's mTLS (README.md, "Temporal
Cloud"). No server is contacted: the call's arguments are what is checked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client
from temporalio.service import TLSConfig

from client.connection import connect
from rights.settings import load_settings

CLOUD_ENDPOINT = "privacy.a1b2c.tmprl.cloud:7233"
CLOUD_NAMESPACE = "privacy.a1b2c"


@pytest.fixture
def connect_arguments(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """What `connect` passes to `Client.connect`, which is replaced and contacts nothing."""
    seen: dict[str, Any] = {}

    async def record(target_host: str, **options: Any) -> None:
        seen.update(options, target_host=target_host)

    monkeypatch.setattr(Client, "connect", record)
    return seen


def pem_files(directory: Path, *names: str) -> list[Path]:
    paths = []
    for name in names:
        path = directory / f"{name}.pem"
        path.write_bytes(f"-----BEGIN {name.upper()}-----\n".encode())
        paths.append(path)
    return paths


async def test_the_dev_server_is_reached_in_plain_text(
    connect_arguments: dict[str, Any], tmp_path: Path
) -> None:
    await connect(load_settings(_env_file=None, data_dir=tmp_path))

    assert connect_arguments["target_host"] == "localhost:7233"
    assert connect_arguments["namespace"] == "default"
    assert connect_arguments["tls"] is False
    assert connect_arguments["api_key"] is None


async def test_a_cloud_api_key_is_sent_over_tls(
    connect_arguments: dict[str, Any], tmp_path: Path
) -> None:
    settings = load_settings(
        _env_file=None,
        data_dir=tmp_path,
        temporal_address=CLOUD_ENDPOINT,
        temporal_namespace=CLOUD_NAMESPACE,
        temporal_api_key="cloud-api-key",
    )

    await connect(settings)

    assert connect_arguments["target_host"] == CLOUD_ENDPOINT
    assert connect_arguments["namespace"] == CLOUD_NAMESPACE
    assert connect_arguments["api_key"] == "cloud-api-key"
    assert connect_arguments["tls"] is True
    assert "cloud-api-key" not in repr(settings)


async def test_a_cloud_client_certificate_is_presented_without_a_ca_of_our_own(
    connect_arguments: dict[str, Any], tmp_path: Path
) -> None:
    cert, key = pem_files(tmp_path, "certificate", "private key")
    settings = load_settings(
        _env_file=None,
        data_dir=tmp_path,
        temporal_address=CLOUD_ENDPOINT,
        temporal_namespace=CLOUD_NAMESPACE,
        temporal_tls_client_cert=cert,
        temporal_tls_client_key=key,
    )

    await connect(settings)

    assert connect_arguments["api_key"] is None
    assert connect_arguments["tls"] == TLSConfig(
        server_root_ca_cert=None,
        client_cert=cert.read_bytes(),
        client_private_key=key.read_bytes(),
        domain=None,
    )


async def test_a_self_hosted_cluster_is_verified_against_its_own_ca_and_name(
    connect_arguments: dict[str, Any], tmp_path: Path
) -> None:
    ca, cert, key = pem_files(tmp_path, "ca", "certificate", "private key")
    settings = load_settings(
        _env_file=None,
        data_dir=tmp_path,
        temporal_address="temporal.internal:7233",
        temporal_tls_ca_cert=ca,
        temporal_tls_client_cert=cert,
        temporal_tls_client_key=key,
        temporal_tls_server_name="frontend.temporal.internal",
    )

    await connect(settings)

    assert connect_arguments["tls"] == TLSConfig(
        server_root_ca_cert=ca.read_bytes(),
        client_cert=cert.read_bytes(),
        client_private_key=key.read_bytes(),
        domain="frontend.temporal.internal",
    )
