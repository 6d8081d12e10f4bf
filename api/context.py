"""What every handler needs, built once per app: settings, the Temporal client, stores."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi import Request
from fastapi.templating import Jinja2Templates
from temporalio.client import Client

from api.idempotency import IdempotencyKeys
from api.throttle import Throttle
from rights.links import LinkTokens
from rights.settings import Settings


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class ApiContext:
    settings: Settings
    client: Client
    idempotency: IdempotencyKeys
    throttle: Throttle
    links: LinkTokens
    pages: Jinja2Templates
    # Webhook providers in callback mode: their signing secrets, by provider name.
    callback_secrets: dict[str, str | None]
    # When a request is received: the wall clock (a test gives the time-skipping server's).
    clock: Callable[[], datetime] = utc_now


def context(request: Request) -> ApiContext:
    """The app's shared context, for handlers to depend on."""
    ctx: ApiContext = request.app.state.context
    return ctx
