"""What every handler needs, built once per app: settings, the Temporal client, stores."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from fastapi.templating import Jinja2Templates
from temporalio.client import Client

from api.idempotency import IdempotencyKeys
from api.throttle import Throttle
from rights.links import LinkTokens
from rights.settings import Settings


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


def context(request: Request) -> ApiContext:
    """The app's shared context, for handlers to depend on."""
    ctx: ApiContext = request.app.state.context
    return ctx
