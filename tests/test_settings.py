"""Start-up configuration: a bad value stops start-up with a message naming the variable."""

from __future__ import annotations

import pytest

from rights.settings import AppEnv, MailBackend, SettingsError, load_settings
from tests.harness import PRODUCTION


def test_defaults_are_the_local_development_stack() -> None:
    settings = load_settings(_env_file=None)

    assert settings.temporal_address == "localhost:7233"
    assert settings.mail_backend is MailBackend.OUTBOX
    assert str(settings.outbox_dir) == "var/outbox"
    assert settings.records_url == "sqlite:///var/records.db"


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("MAIL_BACKEND", "carrier-pigeon", "MAIL_BACKEND: Input should be 'outbox' or 'sendgrid'"),
        ("VERIFICATION_TTL_DAYS", "soon", "VERIFICATION_TTL_DAYS: Input should be a valid integer"),
        ("OPERATOR_EMAIL", "privacy team", "OPERATOR_EMAIL: value is not a valid email address"),
        ("PUBLIC_BASE_URL", "example.com", "PUBLIC_BASE_URL: must start with http:// or https://"),
        ("EU_ESTABLISHMENT", "US", "EU_ESTABLISHMENT: 'US' is not an EEA country code"),
    ],
)
def test_bad_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)

    with pytest.raises(SettingsError) as raised:
        load_settings(_env_file=None)

    assert expected in str(raised.value)


def test_sendgrid_needs_its_key_and_production_its_link_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MAIL_BACKEND", "sendgrid")
    with pytest.raises(SettingsError, match="SENDGRID_API_KEY is required"):
        load_settings(_env_file=None)
    monkeypatch.setenv("SENDGRID_API_KEY", "SG.secret-value")
    monkeypatch.setenv("APP_ENV", "production")
    with pytest.raises(SettingsError, match="LINK_TOKEN_SECRET is required") as raised:
        load_settings(_env_file=None)
    assert "SG.secret-value" not in str(raised.value)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"link_token_secret": "s" * 31}, "LINK_TOKEN_SECRET: each secret must be at least 32"),
        ({"codec_operator_token": "short"}, "CODEC_OPERATOR_TOKEN: each secret must be at least"),
        ({"intake_api_keys": "i" * 40 + ",short"}, "INTAKE_API_KEYS: each secret must be at least"),
        ({"public_base_url": "http://privacy.example"}, "PUBLIC_BASE_URL must start with https://"),
        ({"inbound_parse_credentials": "sendgrid:short"}, "INBOUND_PARSE_CREDENTIALS: each secret"),
    ],
)
def test_production_refuses_short_secrets_and_plain_http(
    change: dict[str, str], expected: str
) -> None:
    assert load_settings(**PRODUCTION).app_env is AppEnv.PRODUCTION
    with pytest.raises(SettingsError) as refused:
        load_settings(**{**PRODUCTION, **change})
    assert expected in str(refused.value)
    assert "short" not in str(refused.value)


def test_mtls_needs_both_the_certificate_and_its_key() -> None:
    with pytest.raises(SettingsError, match="TEMPORAL_TLS_CLIENT_CERT and TEMPORAL_TLS_CLIENT_KEY"):
        load_settings(_env_file=None, temporal_tls_client_cert="client.pem")


def test_inbound_credentials_are_a_pair_and_empty_is_off() -> None:
    assert (
        load_settings(_env_file=None, inbound_parse_credentials="").inbound_parse_credentials
        is None
    )
    with pytest.raises(SettingsError, match="INBOUND_PARSE_CREDENTIALS must be user:password"):
        load_settings(_env_file=None, inbound_parse_credentials="just-a-password")
