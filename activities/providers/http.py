"""One provider's HTTP API, with its failures sorted the way the retry policy needs them.

- 2xx, and 404 where the caller asked for it, are answers; 1xx/3xx mean a wrong base URL
  (`ProviderMisconfigured`).
- 429 waits for the provider's own reset (`Retry-After`, `X-RateLimit-Reset`, Segment's quota
  reset, HubSpot's window) through `next_retry_delay`: the server schedules the retry, no
  thread sleeps.
- 5xx, timeouts and refused connections are retried with the policy's backoff.
- Any other 4xx is permanent: `ProviderRejected`, non-retryable, and the workflow escalates that
  provider to an operator.

Error messages name the provider, method, path and the provider's error code; never a body's
free text, which can echo the person's email back.
"""

from __future__ import annotations

import email.utils
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from temporalio.exceptions import ApplicationError

# A provider asking us to wait longer than a day is a provider to hand to an operator.
LONGEST_WAIT = timedelta(days=1)
SHORTEST_WAIT = timedelta(seconds=1)
_CODE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


class ProviderApi:
    def __init__(
        self,
        provider: str,
        base_url: str,
        *,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout_seconds: float = 10,
    ) -> None:
        self.provider = provider
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers=dict(headers or {}),
            auth=auth,
            timeout=timeout_seconds,
            follow_redirects=False,
        )

    def close(self) -> None:
        """Close the HTTP client's connections."""
        self._client.close()

    def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        missing_ok: bool = False,
    ) -> httpx.Response:
        """Send one request; return the answer or raise the failure the retry policy expects."""
        where = f"{self.provider}: {method} {path}"
        try:
            response = self._client.request(
                method, path, params=params, json=json, data=data, content=content, headers=headers
            )
        except httpx.TimeoutException:
            raise ApplicationError(f"{where} timed out", type="ProviderUnavailable") from None
        except httpx.TransportError as error:
            raise ApplicationError(
                f"{where} could not connect ({type(error).__name__})", type="ProviderUnavailable"
            ) from None
        status = response.status_code
        if 200 <= status < 300 or (status == 404 and missing_ok):
            return response
        if status < 400:
            # A redirect or an informational answer is not what any of these APIs document.
            raise ApplicationError(
                f"{where} answered {status}: check base_url",
                type="ProviderMisconfigured",
                non_retryable=True,
            )
        code = _error_code(response)
        if status == 429:
            wait = rate_limit_wait(response.headers)
            raise ApplicationError(
                f"{where} rate limited (429 {code}); retrying in {int(wait.total_seconds())} s",
                type="ProviderRateLimited",
                next_retry_delay=wait,
            )
        if status >= 500:
            raise ApplicationError(f"{where} answered {status} {code}", type="ProviderUnavailable")
        raise ApplicationError(
            f"{where} answered {status} {code}", type="ProviderRejected", non_retryable=True
        )


def rate_limit_wait(headers: Mapping[str, str], now: datetime | None = None) -> timedelta:
    """How long the provider asked us to wait, from whichever header it sends."""
    now = now or datetime.now(UTC)
    wait: timedelta | None = None
    if value := headers.get("retry-after"):
        wait = _seconds_or_date(value, now)
    elif value := headers.get("x-ratelimit-reset"):
        # SendGrid documents both an epoch and "seconds until reset"; an epoch is > 10^9.
        wait = _epoch_or_seconds(value, now)
    elif value := headers.get("x-regulation-ratelimit-quota-reset"):
        wait = _iso_date(value, now)
    elif value := headers.get("ratelimit-reset"):
        wait = _epoch_or_seconds(value, now)
    elif value := headers.get("x-hubspot-ratelimit-interval-milliseconds"):
        # HubSpot sends no reset time: its rolling window's length is the longest wait.
        wait = _epoch_or_seconds(value, now)
        wait = None if wait is None else wait / 1000
    if wait is None:
        wait = timedelta(seconds=10)
    return min(max(wait, SHORTEST_WAIT), LONGEST_WAIT)


def _seconds_or_date(value: str, now: datetime) -> timedelta | None:
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=min(int(value), int(LONGEST_WAIT.total_seconds())))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return _until(when, now)


def _epoch_or_seconds(value: str, now: datetime) -> timedelta | None:
    try:
        number = float(value.strip())
    except ValueError:
        return None
    if not math.isfinite(number) or number < 0:
        return None
    if number > 1e9:
        number -= now.timestamp()
    return timedelta(seconds=min(number, LONGEST_WAIT.total_seconds()))


def _iso_date(value: str, now: datetime) -> timedelta | None:
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return _until(when, now)


def _until(when: datetime, now: datetime) -> timedelta:
    """Naive times (an HTTP date with -0000) are UTC."""
    return (when if when.tzinfo else when.replace(tzinfo=UTC)) - now


def _error_code(response: httpx.Response) -> str:
    """The provider's machine-readable error code, if it sends one that looks like a code."""
    try:
        body = response.json()
    except ValueError:
        return ""
    candidates: list[Any] = []
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            candidates += [error.get("code"), error.get("type")]
        elif isinstance(error, str):
            candidates.append(error)
        candidates += [body.get("category"), body.get("code")]
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            candidates += [errors[0].get("code"), errors[0].get("error_code")]
    for candidate in candidates:
        if isinstance(candidate, str) and _CODE.match(candidate):
            return candidate
    return ""
