"""A requester in a real browser: open the verification link from the email, press the button.

Headless Chromium from Debian's package (`/usr/bin/chromium`, installed by .ci/run), driven by
Playwright's Python package; Playwright's own browser download is never used.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from playwright.async_api import async_playwright
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from rights.models import RequestStatus
from rights.terms import RequestType
from tests.harness import MARIA, Harness
from tests.live_server import free_port, serving

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

needs_chromium = pytest.mark.skipif(
    not Path(CHROMIUM).exists() and os.environ.get("CI") != "true",
    reason="Debian's chromium is not installed here (.ci/run installs it; CI never skips this)",
)


@needs_chromium
async def test_requester_verifies_in_a_browser(env: WorkflowEnvironment, tmp_path: Path) -> None:
    port = free_port()
    async with (
        Harness.running(env, tmp_path, public_base_url=f"http://127.0.0.1:{port}") as harness,
        serving(create_app(harness.settings, harness.client), port),
    ):
        request = await harness.submit(RequestType.ACCESS)
        rid = request.request_id
        await harness.wait_for_notice(rid, "verification")
        link = next(
            line for line in harness.text(rid, "verification").split() if "/verify?token=" in line
        )

        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS
            )
            page = await browser.new_page()
            await page.goto(link)
            form_heading = await page.text_content("h1")
            await page.fill("#phone", MARIA[2])
            await page.click("button[type=submit]")
            await page.wait_for_load_state()
            heading = await page.text_content("h1")
            body = await page.text_content("body")
            await page.screenshot(path=str(tmp_path / "verified.png"))
            await browser.close()

        state = await harness.wait_for_status(rid, RequestStatus.FULFILLING)

    assert form_heading == "Confirm it is you"
    assert heading == "Thank you: we have confirmed it is you"
    assert body is not None and "gathering your information" in body
    assert state.verification_attempts == 1


@needs_chromium
async def test_a_person_makes_a_request_through_the_public_form(
    env: WorkflowEnvironment, tmp_path: Path
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    async with (
        Harness.running(env, tmp_path, public_base_url=base) as harness,
        serving(create_app(harness.settings, harness.client), port),
    ):
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS
            )
            page = await browser.new_page(viewport={"width": 390, "height": 844})  # a phone
            await page.goto(f"{base}/request")
            await page.select_option("#residence", "US-CA")
            await page.click("button[type=submit]")
            await page.wait_for_load_state()
            offered = await page.locator("input[name=type]").evaluate_all(
                "inputs => inputs.map(input => input.value)"
            )
            await page.check("#type-deletion")
            await page.fill("#full_name", MARIA[1])
            await page.fill("#email", "not an address")
            await page.click("button[type=submit]")
            await page.wait_for_load_state()
            error = await page.text_content("#email-error")
            await page.check("#type-deletion")
            await page.fill("#email", MARIA[0])
            await page.click("button[type=submit]")
            await page.wait_for_load_state()
            heading = await page.text_content("h1")
            reference = await page.text_content(".reference")
            await page.screenshot(path=str(tmp_path / "request-sent.png"))
            await browser.close()

        assert reference is not None
        rid = reference.split(":")[-1].strip()
        harness.track(rid)
        state = await harness.wait_for_notice(rid, "receipt")

    assert offered == [
        "access", "deletion", "correction", "portability", "opt_out", "limit_sensitive"
    ]  # fmt: skip
    assert error is not None and "email" in error
    assert heading == "We received your request"
    assert state.type is RequestType.DELETION and state.jurisdiction.value == "US-CA"
    assert state.channel.value == "web_form"
    assert harness.message(rid, "receipt")["To"] == MARIA[0]
