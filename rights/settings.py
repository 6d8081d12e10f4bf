"""Every knob of the service, read once from the environment (and `.env`).

Everything else receives a `Settings` instance as an argument; nothing reads the environment
on its own. A bad value fails start-up with a message naming the variable, so an operator
learns about a typo before a request is lost to it.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import EmailStr, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from rights.deadlines import EEA_STATES
from rights.receipt_day import known_timezone

# The shortest secret production accepts: 256 bits, what HMAC-SHA256 keys are made of.
SECRET_BYTES = 32


class MailBackend(StrEnum):
    OUTBOX = "outbox"
    SENDGRID = "sendgrid"


class AppEnv(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class WorkerQueue(StrEnum):
    """The task queues a worker process can poll (WORKER_QUEUES), so each kind scales apart."""

    # The workflows and every activity not on a provider's queue: notices, identity, records.
    MAIN = "main"
    # One queue per automated provider, each rate-limited by the server (rights.registry).
    PROVIDERS = "providers"


class SettingsError(ValueError):
    """Start-up configuration is invalid; the message names each variable and the problem."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    app_env: AppEnv = AppEnv.DEVELOPMENT
    temporal_address: str = "localhost:7233"
    temporal_namespace: str = "default"
    # Reaching Temporal is operator power: lock it with mTLS, or an API key (Temporal Cloud).
    temporal_tls: bool = False
    temporal_tls_ca_cert: Path | None = None
    temporal_tls_client_cert: Path | None = None
    temporal_tls_client_key: Path | None = None
    temporal_tls_server_name: str | None = None
    temporal_api_key: SecretStr | None = None
    task_queue: str = "rights-requests"
    # Comma-separated in the environment: `main`, `providers`, or both (the default).
    worker_queues: Annotated[frozenset[WorkerQueue], NoDecode] = Field(
        default=frozenset(WorkerQueue), min_length=1
    )
    workflow_cache_size: int = Field(default=250, ge=0, le=100_000)
    # Run the workflows in the sandbox, checking every call they make (worker.py); the tests do.
    workflow_sandbox_strict: bool = False
    activity_concurrency: int = Field(default=16, ge=1, le=1000)
    data_dir: Path = Path("var")
    mail_backend: MailBackend = MailBackend.OUTBOX
    mail_outbox_dir: Path | None = None
    mail_from: EmailStr = "privacy@health.example.com"
    operator_email: EmailStr = "privacy-team@health.example.com"
    sendgrid_api_key: SecretStr | None = None
    sendgrid_host: str = "https://api.sendgrid.com"
    mail_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    records_database_url: str | None = None
    service_database_url: str | None = None
    provider_registry: Path = Path("config/providers.toml")
    public_base_url: str = "http://127.0.0.1:8000"
    link_token_secret: SecretStr | None = None
    payload_keys: SecretStr | None = None
    eu_establishment: str = Field(default="IE", min_length=2, max_length=2)
    # The calendar day of receipt is the business's: the company is in Minneapolis.
    business_timezone: str = "America/Chicago"
    # Residents of US states without a privacy law: honoured under the strictest common state
    # rules (45 + 45 days, an appeal), as many companies do; false answers them on receipt.
    honour_states_without_law: bool = True
    verification_ttl_days: int = Field(default=7, ge=1, le=30)
    verification_reminder_days: int = Field(default=2, ge=0, le=29)
    verification_max_attempts: int = Field(default=5, ge=1, le=20)
    reconfirmation_ttl_days: int = Field(default=7, ge=1, le=30)
    extension_notice_lead_days: int = Field(default=5, ge=0, le=30)
    operator_alert_lead_days: int = Field(default=5, ge=1, le=30)
    report_link_ttl_days: int = Field(default=14, ge=1, le=90)
    # How long a refusal's appeal link works: no state law sets a period shorter than this.
    appeal_window_days: int = Field(default=60, ge=30, le=365)
    escalation_ladder_days: str = Field(default="14,7,3,1", pattern=r"^\d{1,2}(,\d{1,2}){0,9}$")
    # The daily overdue sweep looks at open requests due within this many days, or past due.
    overdue_sweep_days: int = Field(default=3, ge=0, le=30)
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8000, ge=1, le=65535)
    intake_api_keys: SecretStr | None = None
    max_body_bytes: int = Field(default=65536, ge=1024, le=10_485_760)
    codec_port: int = Field(default=8081, ge=1, le=65535)
    codec_operator_token: SecretStr | None = None
    temporal_ui_origin: str = "http://localhost:8233"
    wrong_token_limit_per_request: int = Field(default=10, ge=1, le=1000)
    wrong_token_limit_per_address: int = Field(default=30, ge=1, le=10_000)
    # Email intake: SendGrid Inbound Parse posts with these basic-auth credentials, user:password.
    inbound_parse_credentials: SecretStr | None = None
    inbound_max_body_bytes: int = Field(default=10_485_760, ge=65_536, le=31_457_280)
    complaint_reply_days: int = Field(default=30, ge=1, le=30)
    triage_days: int = Field(default=5, ge=1, le=30)
    # The public request form: submissions per client address and per email address, an hour.
    form_limit_per_address: int = Field(default=10, ge=1, le=10_000)
    form_limit_per_email: int = Field(default=3, ge=1, le=1_000)

    def intake_keys(self) -> list[bytes]:
        """The bearer keys intake systems may use, comma-separated in INTAKE_API_KEYS."""
        if self.intake_api_keys is None:
            return []
        raw = self.intake_api_keys.get_secret_value().split(",")
        return [key.strip().encode() for key in raw if key.strip()]

    @field_validator("inbound_parse_credentials", mode="before")
    @classmethod
    def _unset_when_empty(cls, value: object) -> object:
        """`INBOUND_PARSE_CREDENTIALS=` (as compose passes an unset variable) is off, not bad."""
        return None if value == "" else value

    @field_validator("worker_queues", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        """`WORKER_QUEUES=main,providers` names the queues; an empty item names nothing."""
        if isinstance(value, str):
            return {item.strip() for item in value.split(",") if item.strip()}
        return value

    @field_validator("public_base_url")
    @classmethod
    def _base_url_is_http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("business_timezone")
    @classmethod
    def _business_timezone_exists(cls, value: str) -> str:
        return known_timezone(value)

    @field_validator("eu_establishment")
    @classmethod
    def _country_in_the_union(cls, value: str) -> str:
        country = value.upper()
        if country not in EEA_STATES:
            raise ValueError(f"{value!r} is not an EEA country code (e.g. IE, DE, FR)")
        return country

    @model_validator(mode="after")
    def _production_needs_secrets(self) -> Settings:
        if self.mail_backend is MailBackend.SENDGRID and self.sendgrid_api_key is None:
            raise ValueError("SENDGRID_API_KEY is required when MAIL_BACKEND=sendgrid")
        if self.app_env is AppEnv.PRODUCTION and self.link_token_secret is None:
            raise ValueError("LINK_TOKEN_SECRET is required when APP_ENV=production")
        if self.app_env is AppEnv.PRODUCTION and self.payload_keys is None:
            raise ValueError("PAYLOAD_KEYS is required when APP_ENV=production")
        if self.app_env is AppEnv.PRODUCTION and not self.intake_keys():
            raise ValueError("INTAKE_API_KEYS is required when APP_ENV=production")
        if self.app_env is AppEnv.PRODUCTION and self.codec_operator_token is None:
            raise ValueError("CODEC_OPERATOR_TOKEN is required when APP_ENV=production")
        if self.app_env is AppEnv.PRODUCTION:
            self._production_is_locked()
        if self.inbound_parse_credentials is not None and ":" not in (
            self.inbound_parse_credentials.get_secret_value()
        ):
            raise ValueError("INBOUND_PARSE_CREDENTIALS must be user:password")
        client_files = (self.temporal_tls_client_cert, self.temporal_tls_client_key)
        if (client_files[0] is None) != (client_files[1] is None):
            raise ValueError(
                "TEMPORAL_TLS_CLIENT_CERT and TEMPORAL_TLS_CLIENT_KEY go together (mTLS)"
            )
        if self.verification_reminder_days >= self.verification_ttl_days:
            raise ValueError(
                "VERIFICATION_REMINDER_DAYS must be smaller than VERIFICATION_TTL_DAYS"
            )
        return self

    def _production_is_locked(self) -> None:
        """Secrets long enough not to be guessed, and links only over HTTPS."""
        secrets: list[tuple[str, bytes]] = [("INTAKE_API_KEYS", key) for key in self.intake_keys()]
        for variable, secret in (
            ("LINK_TOKEN_SECRET", self.link_token_secret),
            ("CODEC_OPERATOR_TOKEN", self.codec_operator_token),
            ("INBOUND_PARSE_CREDENTIALS", self.inbound_parse_credentials),
        ):
            if secret is not None:
                secrets.append((variable, secret.get_secret_value().encode()))
        for variable, value in secrets:
            if len(value) < SECRET_BYTES:
                raise ValueError(
                    f"{variable}: each secret must be at least {SECRET_BYTES} bytes in "
                    "production (e.g. `python -c 'import secrets; "
                    "print(secrets.token_urlsafe(32))'`)"
                )
        if not self.public_base_url.startswith("https://"):
            raise ValueError("PUBLIC_BASE_URL must start with https:// in production")

    @property
    def escalation_days(self) -> tuple[int, ...]:
        """Days before a deadline the privacy team is alerted, earliest first."""
        return tuple(
            sorted({int(day) for day in self.escalation_ladder_days.split(",")}, reverse=True)
        )

    @property
    def outbox_dir(self) -> Path:
        """Where the outbox backend writes notices."""
        return self.mail_outbox_dir or self.data_dir / "outbox"

    @property
    def reports_dir(self) -> Path:
        """Where access reports are kept."""
        return self.data_dir / "reports"

    @property
    def metrics_dir(self) -> Path:
        """Where the yearly request metrics (11 CCR §7102) are written, as CSV and JSON."""
        return self.data_dir / "metrics"

    @property
    def inbound_dir(self) -> Path:
        """Where the text of each email received is kept, by its request or message id."""
        return self.data_dir / "inbound"

    @property
    def records_url(self) -> str:
        """The records database's URL."""
        return self.records_database_url or f"sqlite:///{self.data_dir / 'records.db'}"

    @property
    def service_url(self) -> str:
        """The service database's URL."""
        return self.service_database_url or f"sqlite:///{self.data_dir / 'service.db'}"


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning pydantic's report into one line per bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        problems = []
        for item in error.errors():
            # A set's items add their index to the location; the variable is the names only.
            variable = "_".join(part for part in item["loc"] if isinstance(part, str)).upper()
            message = item["msg"].removeprefix("Value error, ")
            problems.append(f"{variable}: {message}" if variable else message)
        raise SettingsError("invalid configuration: " + "; ".join(problems)) from None
