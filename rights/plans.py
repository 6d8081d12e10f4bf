"""What each kind of request needs, in one table.

The workflow asks the plan, never `request.type`, whether to verify, to reconfirm, what to ask
providers to do and whether a report goes back; so a new right is one row here. Verification
standards follow 11 CCR §7062: a "reasonable degree of certainty" is two matching data points
(the email address proven by the link, plus one more); a "reasonably high degree" is three plus a
signed declaration under penalty of perjury, required for specific pieces of information.
Opt-out and limit requests need no verification (11 CCR §§7026, 7027(e), §7060(b)).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from rights.models import RequestType, RightsRequest


class ProviderAction(StrEnum):
    DELETE = "delete"
    ACCESS = "access"
    CORRECT = "correct"
    OPT_OUT = "opt_out"
    LIMIT_SENSITIVE = "limit_sensitive"


class VerificationStandard(StrEnum):
    NONE = "none"
    REASONABLE = "reasonable"
    REASONABLY_HIGH = "reasonably_high"


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

    @property
    def delivers_report(self) -> bool:
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
}

# Data points (beyond the email address the link proves) and whether a signed declaration is
# needed, per standard.
REQUIRED_DATA_POINTS: dict[VerificationStandard, int] = {
    VerificationStandard.NONE: 0,
    VerificationStandard.REASONABLE: 1,
    VerificationStandard.REASONABLY_HIGH: 2,
}
NEEDS_DECLARATION: dict[VerificationStandard, bool] = {
    VerificationStandard.NONE: False,
    VerificationStandard.REASONABLE: False,
    VerificationStandard.REASONABLY_HIGH: True,
}


def plan_for(request: RightsRequest) -> RequestPlan:
    plan = _PLANS[request.type]
    if request.type is RequestType.ACCESS and request.specific_pieces:
        return replace(plan, verification=VerificationStandard.REASONABLY_HIGH)
    return plan
