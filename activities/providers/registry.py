"""The provider registry: which systems hold whose data, what they do for each kind of request.

Loaded from a TOML file (`PROVIDER_REGISTRY`) and validated at worker start-up, so a typo in
the registry stops the worker with a message instead of skipping a provider at run time.
Credentials are named by environment variable, never written here.
"""

from __future__ import annotations

import tomllib
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from rights.models import DataPoint
from rights.plans import ProviderAction


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
    data_points: dict[DataPoint, Identifier]


class ProviderEntry(Strict):
    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{1,62}$")]
    kind: Literal["sql", "manual"]
    category: str
    serves: list[ProviderAction]
    label: str | None = None
    sql: SqlSource | None = None
    instructions: str | None = None

    @model_validator(mode="after")
    def _kind_has_its_settings(self) -> ProviderEntry:
        if self.kind == "sql" and self.sql is None:
            raise ValueError(f"provider {self.name}: kind 'sql' needs a [providers.sql] table")
        return self


class Registry(Strict):
    identity: IdentitySource
    providers: list[ProviderEntry]

    @model_validator(mode="after")
    def _names_unique(self) -> Registry:
        names = [provider.name for provider in self.providers]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"provider names must be unique: {', '.join(duplicates)}")
        return self

    def provider(self, name: str) -> ProviderEntry:
        for entry in self.providers:
            if entry.name == name:
                return entry
        raise KeyError(name)


class RegistryError(ValueError):
    pass


def load_registry(path: Path) -> Registry:
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
