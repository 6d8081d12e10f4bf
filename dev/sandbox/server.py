"""The frame every sandbox provider shares: a loopback HTTP server, its auth check and its faults.

A sandbox answers the endpoints our connector uses the way the provider documents them (status
codes, bodies, job lifecycles, rate-limit headers). Faults are queued per server and consumed
one request at a time, so a test can say "the next three calls get 429" and know which calls
they hit. `effective_deletions_per_person` counts, by account id, the deletions that removed data
that was there: the number a crash-and-retry test expects to stay at one for each person.

Given a directory, a sandbox keeps what a real provider keeps there (people, jobs and their ids,
idempotency answers, callbacks not yet acknowledged, the deletion counts) and finds it again
when started anew on it, so a restarted `make run` meets the providers it left. The file is
rewritten whole after each call that changed something, by renaming a temporary file over it:
a process killed mid-write leaves the previous state, never half of one. It is not synced to the
disk: a killed process loses nothing, a power cut may. Faults and the call log are the test's,
not the provider's, and are not kept.

The control endpoints under `/_sandbox/` let an operator inject faults into the `make run`
stack with curl (see README).
"""

from __future__ import annotations

import json
import os
import re
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Place:
    """Where a sandbox runs and for whom: what `make run` and the tests tell each one."""

    provider: str
    port: int = 0
    agent_email: str = "privacy-bot@sandbox.invalid"
    callback_base_url: str | None = None
    callback_after_seconds: float | None = None
    # Where it keeps its state across restarts; None keeps it in memory only.
    state_dir: Path | None = None


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    def saved(self) -> dict[str, Any]:
        """The reply as the state file holds it (an idempotency key's first answer)."""
        return {"status": self.status, "body": self.body, "headers": self.headers}

    @classmethod
    def from_saved(cls, saved: dict[str, Any]) -> Reply:
        """A reply read back from the state file."""
        return cls(int(saved["status"]), saved["body"], dict(saved["headers"]))


@dataclass
class Call:
    """One request as the handler sees it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body as JSON."""
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, list[str]]:
        """The body as a form."""
        return parse_qs(self.body.decode())

    def arg(self, name: str, default: str | None = None) -> str | None:
        """One query argument's first value."""
        values = self.query.get(name)
        return values[0] if values else default


@dataclass
class Fault:
    kind: str  # "status", "slow", "lose_response"
    status: int = 0
    seconds: float = 0.0
    times: int = 1  # -1: until cleared
    on: str = ""  # only calls whose "METHOD /path" starts with this


Handler = Callable[..., Reply]


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A caller gone mid-answer (a worker killed while it waited) is not the provider's
        error, and a real one would not print it on our console."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


STATE_FILE = "state.json"


class SandboxProvider:
    """Subclasses set `name`, register routes in `routes()`, say how they authenticate, and
    what of theirs a restart keeps (`state()`, `restore_state()`)."""

    name = "sandbox"
    # The first of the numbers the provider's ids are made from.
    first_id = 1

    @classmethod
    def for_provider(cls, token: str, place: Place) -> SandboxProvider:
        """The stand-in for one registry entry; kinds that need more of `place` override this."""
        return cls(token, port=place.port, state_dir=place.state_dir)

    def __init__(self, token: str, *, port: int = 0, state_dir: Path | None = None) -> None:
        self.token = token
        self._lock = threading.RLock()
        self._faults: list[Fault] = []
        self.calls: list[tuple[str, str]] = []
        self.effective_deletions_per_person: Counter[str] = Counter()
        self._next_id = self.first_id
        self.state_dir = state_dir
        self._saved = ""
        self.fresh = self._load()
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = [
            (method, re.compile(f"^{pattern}$"), handler)
            for method, pattern, handler in self.routes()
        ]
        self._server = _Server(("127.0.0.1", port), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    # What a provider module defines.

    def routes(self) -> list[tuple[str, str, Handler]]:
        """(method, path pattern, handler) for each endpoint this provider answers."""
        raise NotImplementedError

    def authorized(self, call: Call) -> bool:
        """Whether the call carries this sandbox's credentials."""
        return call.headers.get("authorization") == f"Bearer {self.token}"

    def error(self, status: int, code: str) -> Reply:
        """The provider's error body shape."""
        return Reply(status, {"error": {"code": code}})

    def rate_limited(self, wait_seconds: int) -> Reply:
        """The provider's own 429 answer."""
        return Reply(429, {"error": {"code": "rate_limited"}}, {"Retry-After": str(wait_seconds)})

    def hold_person(self, email: str, full_name: str, account_id: str) -> None:
        """Hold one person's records, as the provider would."""
        raise NotImplementedError

    def state(self) -> dict[str, Any]:
        """What the provider holds, as JSON, for the state file."""
        raise NotImplementedError

    def restore_state(self, state: dict[str, Any]) -> None:
        """Hold again what `state()` returned before a restart."""
        raise NotImplementedError

    # Shared by every provider: its people, its ids, its deletion counts.

    def add_person(self, email: str, full_name: str, account_id: str) -> None:
        """Hold one person, as the provider would, and keep it."""
        with self._lock:
            self.hold_person(email, full_name, account_id)
            self._save()

    def new_id(self) -> int:
        """The next number for the provider's ids; never one given before, restarts included."""
        self._next_id += 1
        return self._next_id - 1

    def deleted(self, account_id: str) -> None:
        """Count a deletion that removed this person's data."""
        self.effective_deletions_per_person[account_id] += 1

    @property
    def effective_deletions(self) -> int:
        """Deletions that removed data, everyone's together."""
        with self._lock:
            return sum(self.effective_deletions_per_person.values())

    # Keeping it.

    def _load(self) -> bool:
        """Read the state a previous run left; whether there was none (a fresh provider)."""
        if self.state_dir is None:
            return True
        self.state_dir.mkdir(parents=True, exist_ok=True)
        path = self.state_dir / STATE_FILE
        if not path.exists():
            return True
        self._saved = path.read_text()
        saved = json.loads(self._saved)
        self._next_id = int(saved["next_id"])
        self.effective_deletions_per_person = Counter(saved["effective_deletions_per_person"])
        self.restore_state(saved["provider"])
        return False

    def _save(self) -> None:
        """Write the state, if it changed, in place of the old file (see the module's doc)."""
        if self.state_dir is None:
            return
        with self._lock:
            text = json.dumps(
                {
                    "next_id": self._next_id,
                    "effective_deletions_per_person": self.effective_deletions_per_person,
                    "provider": self.state(),
                },
                sort_keys=True,
            )
            if text == self._saved:
                return
            partial = self.state_dir / f"{STATE_FILE}.partial"
            partial.write_text(text)
            os.replace(partial, self.state_dir / STATE_FILE)
            self._saved = text

    # Running it.

    @property
    def url(self) -> str:
        """The sandbox's base URL."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Self:
        """Serve on a thread; returns the sandbox."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # Faults.

    def fail(self, status: int, *, times: int = 1, on: str = "") -> None:
        """The next `times` calls (matching `on`, "METHOD /path" prefix) get this status; a
        429 comes with the provider's rate-limit headers."""
        self._add(Fault("status", status=status, times=times, on=on))

    def reject(self, status: int = 403) -> None:
        """Every call gets this status until `clear()`: a revoked key, a changed contract."""
        self._add(Fault("status", status=status, times=-1))

    def slow(self, seconds: float, *, times: int = 1) -> None:
        """Make the next calls wait `seconds` before answering."""
        self._add(Fault("slow", seconds=seconds, times=times))

    def lose_response(self, on: str, *, times: int = 1) -> None:
        """Do the work of a call matching `on` ("DELETE /v1/customers"), then drop the
        connection: the caller cannot know it happened, as when a worker dies mid-call."""
        self._add(Fault("lose_response", times=times, on=on))

    def clear(self) -> None:
        """Drop every fault still queued."""
        with self._lock:
            self._faults.clear()

    def _add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def _next_fault(self, call: Call) -> Fault | None:
        with self._lock:
            where = f"{call.method} {call.path}"
            fault = next((f for f in self._faults if where.startswith(f.on)), None)
            if fault is not None and fault.times > 0:
                fault.times -= 1
                if fault.times == 0:
                    self._faults.remove(fault)
            return fault

    def calls_to(self, method: str, prefix: str) -> int:
        """How many calls reached `method path`."""
        with self._lock:
            return sum(1 for m, path in self.calls if m == method and path.startswith(prefix))

    # Dispatch.

    def _control(self, call: Call) -> Reply:
        """`POST /_sandbox/faults {"fail": 429, "times": 3}` and friends; `GET /_sandbox/state`."""
        if call.method == "GET" and call.path == "/_sandbox/state":
            with self._lock:
                return Reply(
                    200,
                    {
                        "effective_deletions": self.effective_deletions,
                        "effective_deletions_per_person": self.effective_deletions_per_person,
                        "calls": len(self.calls),
                    },
                )
        if call.method == "POST" and call.path == "/_sandbox/faults":
            order = call.json() or {}
            times = int(order.get("times", 1))
            if "fail" in order:
                self.fail(int(order["fail"]), times=times)
            elif "reject" in order:
                self.reject(int(order["reject"]))
            elif "slow" in order:
                self.slow(float(order["slow"]), times=times)
            elif "lose_response" in order:
                self.lose_response(str(order["lose_response"]), times=times)
            elif order.get("clear"):
                self.clear()
            else:
                return Reply(400, {"error": "give one of fail, reject, slow, lose_response, clear"})
            return Reply(200, {"ok": True})
        return Reply(404, {"error": "no such sandbox control"})

    def _dispatch(self, call: Call) -> Reply | None:
        if call.path.startswith("/_sandbox/"):
            return self._control(call)
        with self._lock:
            self.calls.append((call.method, call.path))
        fault = self._next_fault(call)
        if fault is not None and fault.kind == "slow":
            time.sleep(fault.seconds)
        if fault is not None and fault.kind == "status":
            if fault.status == 429:
                return self.rate_limited(2)
            return self.error(fault.status, "sandbox_fault")
        if not self.authorized(call):
            return self.error(401, "unauthorized")
        for method, pattern, handler in self._routes:
            if method == call.method and (match := pattern.match(call.path)):
                with self._lock:
                    reply = handler(call, *match.groups())
                    # Kept before it is answered: what the caller is told survives a crash.
                    self._save()
                if fault is not None and fault.kind == "lose_response":
                    return None
                return reply
        return self.error(404, "no_route")

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        sandbox = self

        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("content-length") or 0)
                call = Call(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query),
                    headers={key.lower(): value for key, value in self.headers.items()},
                    body=self.rfile.read(length) if length else b"",
                )
                reply = sandbox._dispatch(call)
                if reply is None:
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                body = b"" if reply.body is None else json.dumps(reply.body).encode()
                self.send_response(reply.status)
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                if reply.body is not None:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = _serve

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: request lines would carry emails from query strings."""

        return RequestHandler
