"""The FastAPI app: intake, status, requester pages, health. Run with `python -m api.app`.

Client mistakes are 4xx with a JSON body naming each field and the problem (never the value a
requester typed); a refused request starts nothing and writes nothing.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Annotated, Any

import structlog
import uvicorn
from fastapi import Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from api import answer_pages, callbacks, inbound_email, intake, report_page, request_form
from api.context import ApiContext, context, utc_now
from api.idempotency import IdempotencyKeys
from api.security import add_page_headers
from api.throttle import Throttle
from client import connection
from client.connection import load_link_secret
from logs import configure_logging
from rights.links import LinkTokens
from rights.registry import Registry, read_registry
from rights.settings import Settings, load_settings
from stores.engines import create_engine
from templates import template_environment

access_log = structlog.get_logger("api.access")
GRACEFUL_SHUTDOWN_SECONDS = 5


class BodyLimit:
    """413 for a body over MAX_BODY_BYTES, chunked or not, before any handler reads it.

    A path in `wider` has its own limit: inbound email carries attachments.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, wider: Mapping[str, int]) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.wider = wider

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.wider.get(scope["path"], self.max_bytes)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(scope, receive, send, limit)
            return
        chunks: list[Message] = []
        size = 0
        while True:
            message = await receive()
            chunks.append(message)
            size += len(message.get("body", b""))
            if size > limit:
                await self._refuse(scope, receive, send, limit)
                return
            if message["type"] != "http.request" or not message.get("more_body"):
                break

        async def replay() -> Message:
            return chunks.pop(0) if chunks else await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        response = JSONResponse(
            status_code=413,
            content={"errors": [{"field": "body", "problem": f"larger than {limit} bytes"}]},
        )
        await response(scope, receive, send)


def field_of(location: tuple[Any, ...]) -> str:
    """The field an error location names, as the API's error bodies call it."""
    parts = [str(part) for part in location if part not in ("body", "header", "query", "path")]
    return ".".join(parts) or "body"


# A whole-body check that blames one field says so as "field: problem".
_NAMED_FIELD = re.compile(r"(?P<field>[a-z_][a-z_.]*): (?P<problem>.+)", re.DOTALL)


def error_item(item: Any) -> dict[str, str]:
    """One validation error as the API reports it: the field it names, and the problem."""
    field = field_of(item["loc"])
    problem = str(item["msg"]).removeprefix("Value error, ")
    named = _NAMED_FIELD.fullmatch(problem) if field == "body" else None
    if named is not None:
        return {"field": named["field"], "problem": named["problem"]}
    return {"field": field, "problem": problem}


async def validation_failed(request: Request, error: Exception) -> JSONResponse:
    """422 naming each field and its problem, never the value sent."""
    assert isinstance(error, RequestValidationError)
    errors = [error_item(item) for item in error.errors()]
    return JSONResponse(status_code=422, content={"errors": errors})


async def http_error(request: Request, error: Exception) -> JSONResponse:
    """Starlette's HTTP errors in the API's error shape."""
    assert isinstance(error, StarletteHTTPException)
    return JSONResponse(
        status_code=error.status_code,
        content={"errors": [{"field": "request", "problem": str(error.detail)}]},
        headers=error.headers,
    )


def page_templates() -> Jinja2Templates:
    """The requester pages' templates: autoescaped whatever their file name (Starlette's own
    default escapes `.html` but not `.html.j2`), every value kept on one line."""
    return Jinja2Templates(env=template_environment())


def callback_secrets(registry: Registry, environ: Mapping[str, str]) -> dict[str, str | None]:
    """The signing secret of each webhook provider that reports by callback (None: unset).

    An unset secret is logged and answered 503 on that provider's callbacks, rather than
    keeping the whole API (intake, requester pages) from starting.
    """
    secrets: dict[str, str | None] = {}
    for entry in registry.providers:
        if entry.kind == "webhook" and entry.api is not None and entry.api.callback:
            secrets[entry.name] = environ.get(entry.api.token_env) or None
            if secrets[entry.name] is None:
                access_log.warning(
                    "callback_secret_unset", provider=entry.name, variable=entry.api.token_env
                )
    return secrets


def create_app(
    settings: Settings,
    client: Client | None = None,
    *,
    registry: Registry | None = None,
    environ: Mapping[str, str] = os.environ,
    clock: Callable[[], datetime] = utc_now,
) -> FastAPI:
    """The app; tests pass a connected client (and the test server's clock), `make run` lets
    the app connect on start-up."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        records = create_engine(settings.records_url)
        secret = load_link_secret(settings)
        app.state.context = ApiContext(
            settings=settings,
            client=client or await connection.connect(settings),
            idempotency=IdempotencyKeys(records, secret),
            throttle=Throttle(records, secret),
            links=LinkTokens(secret, settings.public_base_url),
            pages=page_templates(),
            callback_secrets=callback_secrets(
                registry or read_registry(settings.provider_registry), environ
            ),
            clock=clock,
        )
        yield
        records.dispose()

    app = FastAPI(
        title="Privacy rights requests",
        version="1",
        description="Start privacy rights requests and follow them; requester pages under /r/.",
        lifespan=lifespan,
    )
    app.add_exception_handler(RequestValidationError, validation_failed)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.middleware("http")(add_page_headers)
    app.middleware("http")(log_requests)
    app.add_middleware(
        BodyLimit,
        max_bytes=settings.max_body_bytes,
        wider={"/v1/inbound/email": settings.inbound_max_body_bytes},
    )
    app.include_router(intake.router)
    app.include_router(answer_pages.router)
    app.include_router(report_page.router)
    app.include_router(callbacks.router)
    app.include_router(inbound_email.router)
    app.include_router(request_form.router)

    @app.get("/healthz", tags=["health"])
    async def healthz(ctx: Annotated[ApiContext, Depends(context)]) -> JSONResponse:
        """Ready when Temporal answers and at least one worker polls the task queue."""
        try:
            described = await ctx.client.workflow_service.describe_task_queue(
                DescribeTaskQueueRequest(
                    namespace=ctx.client.namespace,
                    task_queue=TaskQueue(name=ctx.settings.task_queue),
                    task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
                ),
                timeout=timedelta(seconds=5),
            )
        except Exception:
            return JSONResponse(status_code=503, content={"temporal": "unreachable", "workers": 0})
        workers = len(described.pollers)
        return JSONResponse(
            status_code=200 if workers else 503,
            content={"temporal": "ok", "workers": workers},
        )

    return app


def server_config(app: FastAPI, host: str, port: int) -> uvicorn.Config:
    """Uvicorn's access log is off: it would write each link's token from the query string.
    `log_requests` logs method, path and status instead. A stop waits at most a few seconds
    for requests in flight (a callback waiting on its run), so the process ends when asked."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        proxy_headers=True,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )


async def log_requests(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """One access-log line per request: method, path, status (no query string)."""
    response = await call_next(request)
    access_log.info(
        "http_request",
        method=request.method,
        path=request.url.path,
        status=response.status_code,
    )
    return response


async def serve(settings: Settings, client: Client | None = None) -> None:
    """Serve the API on API_HOST:API_PORT until stopped."""
    await uvicorn.Server(
        server_config(create_app(settings, client), settings.api_host, settings.api_port)
    ).serve()


if __name__ == "__main__":
    configure_logging()
    asyncio.run(serve(load_settings()))
