"""What each kind of request needs, in one table.

The workflow asks the plan, never `request.type`, whether to verify, to reconfirm, what to ask
providers to do and whether a report goes back; so a new right is one row here.

Verification standards follow 11 CCR §7062: a "reasonable degree of certainty" is two matching
data points (the email address proven by the link, plus one more); a "reasonably high degree" is
three, plus, in California, a signed declaration under penalty of perjury. Opt-out and limit
requests need no verification (11 CCR §§7026, 7027(e), §7060(b)), nor does withdrawing consent
(GDPR Art. 7(3)); restriction and objection ask for the reasonable degree (Art. 12(6)).

Access answers by standard. In California a request to know is answered with the categories of
information (Cal. Civ. Code §1798.110(a)(1)-(4), at the reasonable degree) unless the requester
asks for the specific pieces, which need the reasonably high degree (11 CCR §7024(a)); when
that fails but the reasonable degree is met, the categories are given and the report says why.
Elsewhere the right of access is to the data itself (GDPR Art. 15(1) and (3); C.R.S.
§6-1-1306(1)(b) and the other state laws), so access and portability always ask for the
stronger standard: two details besides the email address, no Californian declaration.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from rights.models import NewRequest
from rights.terms import Jurisdiction, RequestType, VerificationStandard


class ProviderAction(StrEnum):
    DELETE = "delete"
    ACCESS = "access"
    CORRECT = "correct"
    OPT_OUT = "opt_out"
    LIMIT_SENSITIVE = "limit_sensitive"
    # GDPR Art. 18: keep the data, but use it for nothing else until the restriction is lifted.
    RESTRICT = "restrict"
    # GDPR Arts 21(1) and 7(3): stop processing on legitimate interests, or on consent withdrawn.
    STOP_PROCESSING = "stop_processing"
    # Minnesota §325M.14 subd. 1(g): a person reviews a profiling decision at each place that
    # holds the data it used (always by hand: no provider decides this for us).
    REVIEW_PROFILING = "review_profiling"


class AccessAnswer(StrEnum):
    """What an access report holds, and why: the workflow decides, the report words it."""

    SPECIFIC_PIECES = "specific_pieces"
    # California: the requester asked for categories (Cal. Civ. Code §1798.110(a)(1)-(4)).
    CATEGORIES_ASKED = "categories_asked"
    # Specific pieces asked for, identity met only the reasonable degree (11 CCR §7024(a)).
    CATEGORIES_FALLBACK = "categories_fallback"


ACCESS_ANSWER_WORDS = {
    AccessAnswer.SPECIFIC_PIECES: "The information itself follows, as each system holds it.",
    AccessAnswer.CATEGORIES_ASKED: (
        "You asked which categories of personal information we hold about you, so this report "
        "lists them without their content. To receive the specific pieces of information, "
        "make a request for them: we will then ask for two details and a signed declaration "
        "to be sure it is you."
    ),
    AccessAnswer.CATEGORIES_FALLBACK: (
        "You asked for the specific pieces of personal information we hold. We could confirm "
        "your identity only to a reasonable degree, not to the reasonably high degree the law "
        "requires before we disclose them (11 CCR §7024(a)), so this report gives the "
        "categories instead. You may make a new request and give two details (and, in "
        "California, the signed declaration) to receive the information itself."
    ),
}
"""How a report (and its completion notice) says what it holds; legal statements, kept here."""


class ReportFormat(StrEnum):
    JSON = "json"
    HTML = "html"
    CSV = "csv"


@dataclass(frozen=True)
class RequestPlan:
    verification: VerificationStandard
    reconfirm_deletion: bool
    action: ProviderAction
    report_formats: tuple[ReportFormat, ...] = ()
    # The data itself, once the reasonably high standard is met; otherwise its categories.
    specific_pieces: bool = False

    @property
    def delivers_report(self) -> bool:
        """Whether the request is answered with a report."""
        return bool(self.report_formats)


_PLANS: dict[RequestType, RequestPlan] = {
    RequestType.ACCESS: RequestPlan(
        VerificationStandard.REASONABLE,
        reconfirm_deletion=False,
        action=ProviderAction.ACCESS,
        report_formats=(ReportFormat.JSON, ReportFormat.HTML),
    ),
    RequestType.PORTABILITY: RequestPlan(
        VerificationStandard.REASONABLY_HIGH,
        reconfirm_deletion=False,
        action=ProviderAction.ACCESS,
        report_formats=(ReportFormat.JSON, ReportFormat.HTML, ReportFormat.CSV),
        specific_pieces=True,
    ),
    RequestType.DELETION: RequestPlan(
        VerificationStandard.REASONABLE, reconfirm_deletion=True, action=ProviderAction.DELETE
    ),
    RequestType.CORRECTION: RequestPlan(
        VerificationStandard.REASONABLE, reconfirm_deletion=False, action=ProviderAction.CORRECT
    ),
    RequestType.OPT_OUT: RequestPlan(
        VerificationStandard.NONE, reconfirm_deletion=False, action=ProviderAction.OPT_OUT
    ),
    RequestType.LIMIT_SENSITIVE: RequestPlan(
        VerificationStandard.NONE,
        reconfirm_deletion=False,
        action=ProviderAction.LIMIT_SENSITIVE,
    ),
    # Restriction and objection change what is done with the person's data, so the request is
    # confirmed as theirs (GDPR Art. 12(6)); consent is withdrawn as easily as it was given
    # (Art. 7(3)), without proof beyond the address it came from.
    RequestType.RESTRICTION: RequestPlan(
        VerificationStandard.REASONABLE, reconfirm_deletion=False, action=ProviderAction.RESTRICT
    ),
    RequestType.OBJECTION: RequestPlan(
        VerificationStandard.REASONABLE,
        reconfirm_deletion=False,
        action=ProviderAction.STOP_PROCESSING,
    ),
    RequestType.CONSENT_WITHDRAWAL: RequestPlan(
        VerificationStandard.NONE,
        reconfirm_deletion=False,
        action=ProviderAction.STOP_PROCESSING,
    ),
    RequestType.PROFILING_REVIEW: RequestPlan(
        VerificationStandard.REASONABLE,
        reconfirm_deletion=False,
        action=ProviderAction.REVIEW_PROFILING,
    ),
}

# Data points (beyond the email address the link proves) per standard.
REQUIRED_DATA_POINTS: dict[VerificationStandard, int] = {
    VerificationStandard.NONE: 0,
    VerificationStandard.REASONABLE: 1,
    VerificationStandard.REASONABLY_HIGH: 2,
}


def needs_declaration(standard: VerificationStandard, jurisdiction: Jurisdiction) -> bool:
    """The signed declaration under penalty of perjury is California's (11 CCR §7062(c))."""
    return standard is VerificationStandard.REASONABLY_HIGH and jurisdiction is Jurisdiction.US_CA


def access_answer(plan: RequestPlan, verified: VerificationStandard) -> AccessAnswer:
    """What an access report may hold, given the standard the requester met."""
    if not plan.specific_pieces:
        return AccessAnswer.CATEGORIES_ASKED
    if verified is VerificationStandard.REASONABLY_HIGH:
        return AccessAnswer.SPECIFIC_PIECES
    return AccessAnswer.CATEGORIES_FALLBACK


def plan_for(request: NewRequest) -> RequestPlan:
    """The plan for `request`: verification, reconfirmation, action and report."""
    plan = _PLANS[request.type]
    if request.minor_removal is not None:
        # The privacy team removes it on its own knowledge: nobody to verify; a second team
        # member confirms instead of the requester (see RightsRequestWorkflow).
        return replace(plan, verification=VerificationStandard.NONE)
    if request.agent is not None and request.agent.is_guardian:
        # The privacy team's review of the guardian's proof is the verification: a minor is
        # not asked to prove who they are.
        return replace(plan, verification=VerificationStandard.NONE)
    asks_for_pieces = request.specific_pieces or request.jurisdiction is not Jurisdiction.US_CA
    if request.type is RequestType.ACCESS and asks_for_pieces:
        return replace(
            plan, verification=VerificationStandard.REASONABLY_HIGH, specific_pieces=True
        )
    return plan
