"""Both ends of the webhook's callback (the contract in `activities/providers/webhook.py`): the
sender posts each result until it hears a 2xx, a restarted sender resumes what it had not
delivered, and our API answers 503 when it could not record one, so the sender tries again.

Runs through Temporal (the repeat of a recorded callback) are in test_provider_fulfilment.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from temporalio.client import Client

from activities.providers.kinds import load_registry
from api.app import create_app
from dev.sandbox.webhook import WebhookSandbox
from rights.settings import load_settings
from rights.signatures import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature_valid, signed_headers
from tests.conftest import start_dev_server
from tests.harness import MARIA
from tests.live_server import free_port

ROOT = Path(__file__).resolve().parent.parent
SECRET = "test-care-notes-secret"
PERSON = (MARIA[0], MARIA[1], "1")
CALLBACKS = "/v1/providers/care-notes/callbacks"


@dataclass
class Post:
    status: int  # what the receiver answered
    report: dict[str, Any]
    signed: bool


@contextmanager
def receiving(port: int, statuses: list[int]) -> Iterator[list[Post]]:
    """Our API's callback endpoint as a sender meets it, on loopback: each post is answered
    with the next of `statuses`, then 200; the posts are listed as they arrive."""
    posts: list[Post] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            status = statuses.pop(0) if statuses else 200
            signed = signature_valid(
                SECRET,
                self.headers[TIMESTAMP_HEADER],
                body,
                self.headers[SIGNATURE_HEADER],
                now=time.time(),
            )
            posts.append(Post(status, json.loads(body), signed))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield posts
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def sender(port: int, state_dir: Path | None = None) -> WebhookSandbox:
    """The care-notes system in callback mode, doing each job as soon as it is accepted."""
    return WebhookSandbox(
        SECRET,
        provider="care-notes",
        callback_base_url=f"http://127.0.0.1:{port}",
        callback_after_seconds=0,
        state_dir=state_dir,
    )


def order_deletion(sandbox: WebhookSandbox, request_id: str) -> str:
    """Post a signed deletion order in callback mode, as our connector does; its job id."""
    body = json.dumps(
        {
            "request_id": request_id,
            "action": "delete",
            "email": PERSON[0],
            "account_id": PERSON[2],
            "corrections": {},
            "callback": True,
        }
    ).encode()
    headers = {**signed_headers(SECRET, body, now=time.time()), "Idempotency-Key": request_id}
    answer = httpx.post(sandbox.url, content=body, headers=headers)
    assert answer.status_code == 202, answer.text
    return str(answer.json()["job_id"])


async def until(condition: Callable[[], bool], seconds: float = 30) -> None:
    """Poll `condition` until it holds: waits on a condition, not a clock."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + seconds
    while not condition():
        assert loop.time() < give_up, "condition not reached"
        await asyncio.sleep(0.02)


async def test_a_callback_is_posted_until_the_receiver_acknowledges_it() -> None:
    port = free_port()
    with receiving(port, [503]) as posts, sender(port) as sandbox:
        sandbox.add_person(*PERSON)
        job_id = order_deletion(sandbox, "r-1:delete")
        await until(lambda: not sandbox.pending and not sandbox.callbacks)
    # Stopped: had it posted again after the 200, the post would be listed.
    assert [post.status for post in posts] == [503, 200]
    assert all(post.signed for post in posts)
    assert posts[0].report == posts[1].report
    assert posts[1].report["job_id"] == job_id
    assert posts[1].report["result"] == "done"
    assert sandbox.effective_deletions_per_person == {PERSON[2]: 1}


async def test_a_restarted_sender_posts_the_callback_it_had_not_delivered(
    tmp_path: Path,
) -> None:
    port, state_dir = free_port(), tmp_path / "care-notes"
    # Nothing listens on the port yet: the API went down with the rest of the stack.
    with sender(port, state_dir) as sandbox:
        sandbox.add_person(*PERSON)
        job_id = order_deletion(sandbox, "r-2:delete")
        await until(lambda: bool(sandbox.callbacks) and sandbox.callbacks[0]["attempts"] > 0)
    with receiving(port, []) as posts, sender(port, state_dir) as restarted:
        await until(lambda: not restarted.callbacks)
    assert [(post.status, post.report["job_id"]) for post in posts] == [(200, job_id)]
    assert posts[0].report["records_affected"] == 1
    assert restarted.effective_deletions_per_person == {PERSON[2]: 1}
    assert PERSON[0] not in restarted.people


async def test_a_callback_our_api_cannot_record_is_answered_503_to_send_again(
    tmp_path: Path,
) -> None:
    server = await start_dev_server()
    client: Client = server.client
    await server.shutdown()  # Temporal unreachable, as while the stack restarts
    settings = load_settings(_env_file=None, data_dir=tmp_path)
    app = create_app(
        settings,
        client,
        registry=load_registry(ROOT / "config" / "providers.toml"),
        environ={"CARE_NOTES_WEBHOOK_SECRET": SECRET},
    )
    body = json.dumps({"request_id": "r-3", "job_id": "job-1", "result": "done"}).encode()
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
            answer = await http.post(
                CALLBACKS, content=body, headers=signed_headers(SECRET, body, now=time.time())
            )
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "5"
    assert answer.json()["errors"][0]["field"] == "request_id"
