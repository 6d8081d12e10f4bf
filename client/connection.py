"""How the doors reach Temporal and the secrets they share with the worker.

The payload keys (every payload is sealed with them; in production a payload without them is
refused), the TLS or API-key settings that lock the frontend, and the link-token secret. In
development the keys and the secret are generated once under DATA_DIR, so the worker, the API
and `starter.py` run from the project directory agree on them.
"""

from __future__ import annotations

import logging
import secrets
from pathlib import Path

from temporalio.client import Client
from temporalio.service import TLSConfig

from rights.codec import EncryptionCodec, encrypted_converter, format_keys, parse_keys
from rights.settings import AppEnv, Settings


def load_payload_codec(settings: Settings) -> EncryptionCodec:
    """The configured keys; in development, a key generated once under DATA_DIR."""
    if settings.payload_keys is not None:
        spec = settings.payload_keys.get_secret_value()
    else:
        path = settings.data_dir / "payload-keys"
        if not path.exists():
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(format_keys([("dev-1", secrets.token_bytes(32))]) + "\n")
            path.chmod(0o600)
            logging.getLogger(__name__).warning("payload_key_generated", extra={"path": str(path)})
        spec = path.read_text().strip()
    return EncryptionCodec(
        *parse_keys(spec), refuse_plaintext=settings.app_env is AppEnv.PRODUCTION
    )


def tls_config(settings: Settings) -> TLSConfig | bool:
    """mTLS to a self-hosted cluster (client certificate and key, with the cluster's CA), or
    plain TLS, as Temporal Cloud's API keys need; False for the local dev server."""
    files = (
        settings.temporal_tls_ca_cert,
        settings.temporal_tls_client_cert,
        settings.temporal_tls_client_key,
    )
    if not any(files) and settings.temporal_tls_server_name is None:
        return settings.temporal_tls or settings.temporal_api_key is not None
    ca, cert, key = (path.read_bytes() if path else None for path in files)
    return TLSConfig(
        server_root_ca_cert=ca,
        client_cert=cert,
        client_private_key=key,
        domain=settings.temporal_tls_server_name,
    )


async def connect(settings: Settings, codec: EncryptionCodec | None = None) -> Client:
    """A Temporal client with the payload codec, TLS and API key the settings give."""
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=encrypted_converter(codec or load_payload_codec(settings)),
        tls=tls_config(settings),
        api_key=(
            settings.temporal_api_key.get_secret_value() if settings.temporal_api_key else None
        ),
    )


def load_link_secret(settings: Settings) -> bytes:
    """The configured secret; in development, one generated once under DATA_DIR."""
    if settings.link_token_secret is not None:
        return settings.link_token_secret.get_secret_value().encode()
    if settings.app_env is AppEnv.PRODUCTION:
        raise RuntimeError("LINK_TOKEN_SECRET is required in production")
    path = Path(settings.data_dir) / "link-token.secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip().encode()
