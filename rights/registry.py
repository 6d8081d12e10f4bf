"""The provider registry: which systems hold whose data, what they do for each kind of request.

Read from a TOML file (`PROVIDER_REGISTRY`, `config/providers.toml` by default). This module
checks what any entry must say; what a `kind` may do (its actions, whether it needs an API, takes
callbacks) is checked against the table of kinds (`activities.providers.kinds`) when the worker
loads it, so a typo stops the worker with a message instead of skipping a provider at run time.
Credentials are named by environment variable, never written here.
"""

from __future__ import annotations

import tomllib
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from rights.models import DataPoint, RetentionGround
from rights.plans import ProviderAction

# The service's own store of access reports: every deletion reaches it (see activities.reports).
ACCESS_REPORTS = "access-reports"


class Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class OnDelete(StrEnum):
    DELETE = "delete"
    MASK = "mask"
    RETAIN = "retain"


class Mask(StrEnum):
    NULL = "null"
    REDACT = "redact"
    TOMBSTONE_EMAIL = "tombstone_email"


Identifier = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")]


class SqlTable(Strict):
    """How one table of the service database answers each kind of request."""

    name: Identifier
    link_column: Identifier
    category: str
    on_delete: OnDelete
    retain_basis: str | None = None
    retain_ground: RetentionGround = RetentionGround.LEGAL_OBLIGATION
    mask: dict[Identifier, Mask] = {}
    correctable: list[Identifier] = []
    flags: dict[ProviderAction, Identifier] = {}

    @model_validator(mode="after")
    def _policy_is_complete(self) -> SqlTable:
        if self.on_delete is OnDelete.RETAIN and not self.retain_basis:
            raise ValueError(f"table {self.name}: on_delete = 'retain' needs retain_basis")
        if self.on_delete is OnDelete.MASK and not self.mask:
            raise ValueError(f"table {self.name}: on_delete = 'mask' needs mask columns")
        return self


class SqlSource(Strict):
    subject_table: Identifier
    subject_key: Identifier
    email_column: Identifier
    tables: list[SqlTable]


class IdentitySource(Strict):
    table: Identifier
    email_column: Identifier
    # The id other systems know the person by (Segment's userId, for one).
    account_id_column: Identifier = "id"
    data_points: dict[DataPoint, Identifier]


EnvName = Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]{1,62}$")]


class HttpApi(Strict):
    """Where a provider's API is and how to reach it; secrets are named, never written here."""

    base_url: Annotated[str, Field(pattern=r"^https?://[^\s/]+(/[^\s]*)?$")]
    # Bearer token or API key (for `webhook`: the HMAC signing secret).
    token_env: EnvName
    # Zendesk only: the agent's email for `email/token` basic authentication.
    user_env: EnvName | None = None
    timeout_seconds: Annotated[float, Field(gt=0, le=120)] = 10
    # The first wait before polling a job; each later wait doubles, up to max_poll_every_seconds.
    poll_every_seconds: Annotated[int, Field(ge=1, le=86_400)] = 60
    max_poll_every_seconds: Annotated[int, Field(ge=1, le=86_400)] = 21_600
    job_timeout_days: Annotated[int, Field(ge=1, le=90)] = 35
    # Which identifier the provider knows the person by: their email, or our account id.
    subject_id: Literal["email", "account_id"] = "email"
    # `webhook` only: the system answers 202 with a job id and calls back when done.
    callback: bool = False
    # A local stand-in for the provider (`make run`, tests): said in the evidence and the logs.
    sandbox: bool = False


class RateLimit(Strict):
    """The provider's published limit, enforced by the server for its task queue."""

    per_second: Annotated[float, Field(gt=0, le=1000)]
    concurrency: Annotated[int, Field(ge=1, le=64)] = 4


class RetentionRule(Strict):
    """Data the provider keeps after a deletion: the law that requires it, or the exemption
    that allows it (`ground`), in the words the requester's notice gives."""

    category: Annotated[str, Field(min_length=1, max_length=200)]
    basis: Annotated[str, Field(min_length=5, max_length=500)]
    ground: RetentionGround = RetentionGround.LEGAL_OBLIGATION


Phrase = Annotated[str, Field(min_length=3, max_length=300)]


class Disclosure(Strict):
    """What a request to know is told about a provider's data (Cal. Civ. Code §1798.110(a);
    GDPR Art. 15(1)(a)-(d), (g)): where it comes from, why it is used, who receives it, and
    how long it is kept. In the requester's words, as the privacy policy says it."""

    sources: Annotated[list[Phrase], Field(min_length=1)]
    purposes: Annotated[list[Phrase], Field(min_length=1)]
    recipients: Annotated[list[Phrase], Field(min_length=1)]
    retention: Phrase


class ProviderEntry(Strict):
    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{1,62}$")]
    # One of the kinds in `activities.providers.kinds` (sql, manual, stripe, …).
    kind: Annotated[str, Field(pattern=r"^[a-z][a-z_]{1,40}$")]
    category: str
    serves: list[ProviderAction]
    disclosure: Disclosure
    sql: SqlSource | None = None
    api: HttpApi | None = None
    # Required for an API: its published limit. Without it (our own database), no server-side
    # limit and the worker's ACTIVITY_CONCURRENCY.
    rate: RateLimit | None = None
    retained: list[RetentionRule] = []
    instructions: str | None = None

    @model_validator(mode="after")
    def _an_api_has_its_limit(self) -> ProviderEntry:
        if self.api is not None and self.rate is None:
            raise ValueError(
                f"provider {self.name}: rate: give the API's published limit, "
                "e.g. rate = { per_second = 10 }"
            )
        return self


class Registry(Strict):
    identity: IdentitySource
    providers: list[ProviderEntry]

    @model_validator(mode="after")
    def _names_unique(self) -> Registry:
        names = [provider.name for provider in self.providers]
        if ACCESS_REPORTS in names:
            raise ValueError(f"provider name {ACCESS_REPORTS!r} is the service's own, reserved")
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"provider names must be unique: {', '.join(duplicates)}")
        return self

    def provider(self, name: str) -> ProviderEntry:
        """The entry named `name`."""
        for entry in self.providers:
            if entry.name == name:
                return entry
        raise KeyError(name)


def provider_task_queue(base: str, provider: str) -> str:
    """Each automated provider's activities get their own queue, rate-limited by the server."""
    return f"{base}.provider.{provider}"


class RegistryError(ValueError):
    pass


def read_registry(path: Path) -> Registry:
    """The registry as written, each entry's own fields checked (not yet its kind's rules)."""
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise RegistryError(f"PROVIDER_REGISTRY: no such file {path}") from None
    except tomllib.TOMLDecodeError as error:
        raise RegistryError(f"PROVIDER_REGISTRY: {path} is not valid TOML: {error}") from None
    try:
        return Registry.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc'])}: {item['msg']}"
            for item in error.errors()
        )
        raise RegistryError(f"PROVIDER_REGISTRY {path}: {problems}") from None
