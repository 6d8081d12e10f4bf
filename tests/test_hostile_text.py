"""Hostile text in every field that reaches a page, a notice or a report never comes out live.

What a requester (or a provider's answer) writes is rendered in three places: the requester
pages, each notice's text and HTML parts, and the access report page. Every value below goes
into every field that reaches them, bypassing intake's own checks (as a value from an older
run, an email parser or a provider could), and the output is parsed: no element or attribute
but the templates' own, no link but ours, no forged line in plain text, no bidi override.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from email import policy
from email.parser import BytesParser
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from activities.mail import OutboxMailer
from activities.notices import NoticeActivities, NoticeTemplates
from activities.providers.kinds import load_registry
from activities.records import NoticeLedger
from api.app import create_app, page_templates
from rights.activity_inputs import LinkPurpose, LinkSpec, NoticeFacts, Remedies, SendNoticeInput
from rights.correspondence import Correspondence, CorrespondenceKind, TriageReason
from rights.links import LinkTokens
from rights.models import (
    Agent,
    Channel,
    MinorRemoval,
    NoticeKind,
    OutcomeStatus,
    ProviderOutcome,
    ProviderTask,
    Recipient,
    Requester,
    Retention,
    RightsRequest,
    TaskReason,
)
from rights.plans import AccessAnswer
from rights.settings import load_settings
from rights.terms import Jurisdiction, RequestType
from stores.records import create_records_schema
from tests.harness import INTAKE_KEY, ROOT, default_registry

BASE = "https://privacy.health.example"
CORRESPONDENCE_NOTICES = {
    NoticeKind.CHOOSE_REQUEST,
    NoticeKind.COMPLAINT_RECEIVED,
    NoticeKind.OPERATOR_COMPLAINT,
    NoticeKind.COMPLAINT_REPLY,
    NoticeKind.MESSAGE_RECEIVED,
    NoticeKind.OPERATOR_TRIAGE,
}
# The one link a notice gives that is not ours: the regulator's, from `rights.remedies`.
REGULATOR_URL = "https://coag.gov/file-complaint/"
HOSTILE = [
    "<script>alert(1)</script>",
    '"><meta http-equiv="refresh" content="0;url=https://evil.example">',
    "javascript:alert(document.cookie)",
    "Maria\r\nINJECTED: visit https://evil.example\n",
    "moc.elpmaxe\u202e@evil",
]
ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "h4", "p", "a", "table",
    "tr", "th", "td", "ul", "li", "strong", "pre", "br", "form", "input", "label", "button",
    "textarea", "select", "option", "optgroup", "fieldset", "legend",
    "section", "div",
}  # fmt: skip


# Where a browser follows or runs a value: a requester's text must never land in one.
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "srcdoc", "style", "content"}


class Elements(HTMLParser):
    """Every element and attribute a browser would build from the markup."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {name: value or "" for name, value in attrs}))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def assert_not_live(html: str) -> None:
    elements = Elements()
    elements.feed(html)
    for tag, attrs in elements.tags:
        assert tag in ALLOWED_TAGS, f"<{tag}> came out live"
        if tag == "meta":
            assert set(attrs) <= {"charset", "name", "content"} and "http-equiv" not in attrs
        for name, value in attrs.items():
            assert not name.startswith("on"), f"event handler {name} came out live"
            if name in URL_ATTRIBUTES:
                assert "javascript:" not in value.lower(), f"{name}={value!r}"
        if tag == "a":
            assert attrs["href"].startswith(BASE) or attrs["href"] == REGULATOR_URL, attrs["href"]
        if tag == "form":
            assert attrs.get("action", "") in ("", f"{BASE}/request"), attrs
            assert attrs["method"] in ("post", "get")
    assert "\u202e" not in html


def assert_plain_text_safe(text: str) -> None:
    assert "\u202e" not in text and "\r" not in text
    forged = [line for line in text.splitlines() if line.lstrip().startswith("INJECTED")]
    assert not forged, forged


def hostile_request(value: str) -> RightsRequest:
    person = {"full_name": value, "email": "maria.lopez@example.com"}
    return RightsRequest.model_construct(
        request_id="req-hostile-01",
        type=RequestType.ACCESS,
        jurisdiction=Jurisdiction.US_CA,
        requester=Requester.model_construct(**person, residence=value),
        agent=Agent.model_construct(**person, authorization_url=value),
        channel=Channel.WEB_FORM,
        details=value,
        received_at=datetime(2026, 11, 2, 9, 30, tzinfo=UTC),
        specific_pieces=False,
        corrections=[],
        minor_removal=MinorRemoval.model_construct(started_by=value, reason=value),
    )


def hostile_message(value: str) -> Correspondence:
    return Correspondence.model_construct(
        request_id="req-hostile-02",
        type=CorrespondenceKind.TRIAGE,
        jurisdiction=Jurisdiction.GB,
        requester=Requester.model_construct(
            full_name=value, email="maria.lopez@example.com", residence=value
        ),
        agent=None,
        channel=Channel.EMAIL,
        received_at=datetime(2026, 11, 2, 9, 30, tzinfo=UTC),
        reason=TriageReason.AGENT,
        about_request=value,
        attachments=2,
    )


def hostile_facts(value: str) -> NoticeFacts:
    outcome = ProviderOutcome.model_construct(
        provider=value,
        category=value,
        status=OutcomeStatus.RETAINED,
        records_affected=1,
        retained=[Retention.model_construct(category=value, basis=value)],
        corrected_fields=[value],
        evidence=[value],
        note=value,
        operator_follow_up=None,
        job=None,
    )
    return NoticeFacts.model_construct(
        respond_by=date(2026, 12, 17),
        acknowledge_basis=value,
        respond_basis=value,
        extension_reason=value,
        extended_respond_by=date(2027, 1, 31),
        extension_basis=value,
        attempts_left=3,
        reason=value,
        outcomes=[outcome],
        retained=outcome.retained,
        corrected_fields=[value],
        tasks=[
            ProviderTask.model_construct(
                provider=value,
                reason=TaskReason.ESCALATED,
                opened_at=datetime(2026, 11, 3, tzinfo=UTC),
                detail=value,
            )
        ],
        remedies=Remedies.model_construct(
            appeal_by=date(2027, 2, 14), regulator=value, regulator_url=REGULATOR_URL, courts=True
        ),
        alternatives=[value],
        unblock=value,
        extension_days=45,
        overdue_days=2,
        appeal_id=value,
        paragraphs=[value, value],
        status=value,
        access_answer=AccessAnswer.CATEGORIES_FALLBACK,
    )


@pytest.fixture
def notices(tmp_path: Path) -> NoticeActivities:
    settings = load_settings(_env_file=None, data_dir=tmp_path, public_base_url=BASE)
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'records.db'}")
    create_records_schema(engine)
    return NoticeActivities(
        settings,
        OutboxMailer(settings.outbox_dir),
        NoticeLedger(engine),
        LinkTokens(b"secret", BASE),
        NoticeTemplates(),
    )


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("kind", list(NoticeKind))
def test_every_notice_keeps_hostile_text_dead(
    notices: NoticeActivities, kind: NoticeKind, value: str
) -> None:
    link = LinkSpec(
        purpose=LinkPurpose.VERIFY, nonce="n-1", expires_at=datetime(2026, 11, 9, tzinfo=UTC)
    )
    for recipient in Recipient:
        letter = notices.compose(
            SendNoticeInput.model_construct(
                request=hostile_message(value)
                if kind in CORRESPONDENCE_NOTICES
                else hostile_request(value),
                kind=kind,
                key=f"{kind.value}-1",
                recipient=recipient,
                facts=hostile_facts(value),
                link=link,
                appeal_link=link.model_copy(update={"purpose": LinkPurpose.APPEAL}),
            ),
            "t" * 43,
        )
        # What the outbox writes, read back as a mail client would.
        message = BytesParser(policy=policy.default).parsebytes(letter.as_bytes())
        assert "\n" not in str(message["Subject"]) and "\u202e" not in str(message["Subject"])
        text, html = message.get_body(("plain",)), message.get_body(("html",))
        assert text is not None and html is not None
        assert_plain_text_safe(str(text.get_content()))
        assert_not_live(str(html.get_content()))


def hostile_report(value: str) -> dict[str, Any]:
    return {
        "request_id": value,
        "request_type": value,
        "generated_at": "2026-11-30T10:00:00+00:00",
        "categories": [
            {
                "provider": value,
                "category": value,
                "holds": "yes",
                "kinds": [{"name": value, "records": 2}],
                "sources": [value],
                "purposes": [value],
                "recipients": [value],
                "retention": value,
            }
        ],
        "specific_pieces": {
            "provided": True,
            "explanation": value,
            "sources": [
                {"provider": value, "category": value, "tables": {value: [{value: value}]}}
            ],
        },
    }


@pytest.mark.parametrize("value", HOSTILE)
def test_every_page_template_keeps_hostile_text_dead(value: str) -> None:
    environment = page_templates().env
    values: dict[str, Any] = {
        "request_id": value,
        "title": value,
        "message": value,
        "token": value,
        "request_type": value,
        "decision": value,
        "law": value,
        "places": [(value, [(value, value)])],
        "residence": value,
        "selected": value,
        "place_name": value,
        "types": [(value, value)],
        "chosen_type": value,
        "pieces_offered": True,
        "person_fields": [(value, value, "text", value)],
        "agent_fields": [(value, value, "email", value)],
        "form_id": value,
        "form_path": f"{BASE}/request",
        "values": {value: value},
        "points_needed": 2,
        "needs_declaration": True,
        "pieces": True,
        "errors": {"date_of_birth": value},
        "report": hostile_report(value),
        "downloads": {value: f"{BASE}/r/req-1/report?token=t&format=json"},
    }
    pages = sorted(Path(environment.loader.searchpath[0], "pages").glob("*.html.j2"))  # type: ignore[union-attr]
    assert {page.name for page in pages} >= {
        "message.html.j2", "verify.html.j2", "confirm.html.j2", "report.html.j2",
        "appeal.html.j2", "request_form.html.j2", "residence.html.j2",
    }  # fmt: skip
    for page in pages:
        html = environment.get_template(f"pages/{page.name}").render(values)
        assert_not_live(html)
    # The request form's first step, where no law is chosen yet.
    first_step = environment.get_template("pages/request_form.html.j2").render(values | {"law": ""})
    assert_not_live(first_step)


@pytest.mark.parametrize(
    "path",
    [
        '/r/<meta http-equiv="refresh" content="0;url=https://evil.example">/report?token=x',
        "/r/<script>alert(1)</script>/verify?token=" + "a" * 43,
        '/r/req-00000001/verify?token="><meta http-equiv=refresh content="0;url=https://evil">',
        "/r/req-00000001/confirm-deletion?token=%3Cscript%3E",
        "/r/req-00000001/report?token=%E2%80%AEtoken",
    ],
)
async def test_hostile_links_come_back_as_plain_pages(tmp_path: Path, path: str) -> None:
    """The pages the issue found live: a crafted path or token is never echoed as markup."""
    settings = load_settings(
        _env_file=None,
        data_dir=tmp_path,
        public_base_url=BASE,
        intake_api_keys=INTAKE_KEY,
        link_token_secret="test-link-secret-0123456789abcdef",
    )
    app = create_app(settings, client=_unreachable(), registry=default_registry())
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as http:
            response = await http.get(path)
    assert 400 <= response.status_code < 500
    assert "<meta http-equiv" not in response.text and "<script>" not in response.text
    assert_not_live(response.text)


def _unreachable() -> Any:
    """No Temporal behind these pages: each path must be refused before one is needed."""

    class Unreachable:
        def __getattr__(self, name: str) -> Any:
            raise AssertionError(f"a hostile link reached Temporal ({name})")

    return Unreachable()


@pytest.mark.parametrize(
    ("path", "headers", "status"),
    [
        ("/r/req-00000001/report?token=" + "%C3%A9" * 43, {}, 403),
        ("/r/req-00000001/report?token=%00" + "a" * 42, {}, 403),
        (
            "/v1/providers/care-notes/callbacks",
            {"X-Rights-Timestamp": str(int(time.time())), "X-Rights-Signature": "v1=" + "é" * 30},
            401,
        ),
        (
            "/v1/providers/care-notes/callbacks",
            {"X-Rights-Timestamp": "٣٣٣", "X-Rights-Signature": "v1=" + "0" * 64},
            401,
        ),
        ("/v1/requests", {"Authorization": "Bearer " + "é" * 40}, 401),
        ("/v1/requests", {"Authorization": "Bearer " + INTAKE_KEY[:-1] + "é"}, 401),
        ("/v1/inbound/email", {"Authorization": "Basic " + "é" * 40}, 401),
    ],
)
async def test_non_ascii_tokens_and_signatures_are_refused_not_errors(
    tmp_path: Path, path: str, headers: dict[str, str], status: int
) -> None:
    settings = load_settings(
        _env_file=None,
        data_dir=tmp_path,
        public_base_url=BASE,
        intake_api_keys=INTAKE_KEY,
        link_token_secret="test-link-secret-0123456789abcdef",
        inbound_parse_credentials="inbound:secret-0123456789abcdef-0123456789",
    )
    registry = load_registry(ROOT / "config" / "providers.toml")
    app = create_app(
        settings,
        client=_unreachable(),
        registry=registry,
        environ={"CARE_NOTES_WEBHOOK_SECRET": "callback-secret"},
    )
    raw = {name: value.encode() for name, value in headers.items()}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as http:
            if path.startswith("/v1/"):
                response = await http.post(path, content=b'{"request_id": "x"}', headers=raw)
            else:
                response = await http.get(path)
    assert response.status_code == status, response.text


def test_a_link_token_with_any_bytes_is_unequal_not_an_error() -> None:
    """Pages refuse such tokens by format first; the comparison itself must hold as well."""
    links = LinkTokens(b"test-link-secret-0123456789abcdef", BASE)
    spec = LinkSpec(purpose=LinkPurpose.REPORT, nonce="n-1", expires_at=datetime.now(UTC))
    real = links.token("req-00000001", spec)
    assert links.matches("req-00000001", LinkPurpose.REPORT, "n-1", real)
    for presented in ("é" * len(real), real[:-1] + "é", "\udcff" * 43, ""):
        assert not links.matches("req-00000001", LinkPurpose.REPORT, "n-1", presented)
