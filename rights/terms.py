"""The words every other module shares: which law, which right, how sure we are of identity.

One enum per idea. `RequestType` names every right the deadline engine knows; `SUBMITTABLE`
says which of them this service carries out end to end today (the others have their deadlines
computed, for `starter.py deadlines`, but cannot be submitted yet).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class Jurisdiction(StrEnum):
    US_CA = "US-CA"
    US_CO = "US-CO"
    US_CT = "US-CT"
    US_VA = "US-VA"
    US_UT = "US-UT"
    US_TX = "US-TX"
    US_OR = "US-OR"
    US_FL = "US-FL"
    US_MN = "US-MN"
    US_MT = "US-MT"
    US_DE = "US-DE"
    US_IA = "US-IA"
    US_NE = "US-NE"
    US_NH = "US-NH"
    US_NJ = "US-NJ"
    US_TN = "US-TN"
    US_MD = "US-MD"
    US_IN = "US-IN"
    US_KY = "US-KY"
    US_RI = "US-RI"
    # A US resident whose state has no consumer privacy law in force: honoured under the
    # strictest common state rules when the HONOUR_STATES_WITHOUT_LAW setting says so (default),
    # else answered on receipt. Either way the requester hears from us.
    US_NO_STATE_LAW = "US"
    EU = "EU"
    GB = "GB"
    # Where the requester lives, no law this service applies gives them rights: the request
    # is answered on receipt with what they can do, never silently refused.
    UNCOVERED = "uncovered"
    # The requester has not said where they live yet (an email that names no place): the run
    # keeps the earliest deadline of the laws that may apply and asks them first.
    UNDETERMINED = "undetermined"


LAW_NAMES: Final[dict[Jurisdiction, str]] = {
    Jurisdiction.US_CA: "the California Consumer Privacy Act",
    Jurisdiction.US_CO: "the Colorado Privacy Act",
    Jurisdiction.US_CT: "the Connecticut Data Privacy Act",
    Jurisdiction.US_VA: "the Virginia Consumer Data Protection Act",
    Jurisdiction.US_UT: "the Utah Consumer Privacy Act",
    Jurisdiction.US_TX: "the Texas Data Privacy and Security Act",
    Jurisdiction.US_OR: "the Oregon Consumer Privacy Act",
    Jurisdiction.US_FL: "the Florida Digital Bill of Rights",
    Jurisdiction.US_MN: "the Minnesota Consumer Data Privacy Act",
    Jurisdiction.US_MT: "the Montana Consumer Data Privacy Act",
    Jurisdiction.US_DE: "the Delaware Personal Data Privacy Act",
    Jurisdiction.US_IA: "the Iowa Consumer Data Protection Act",
    Jurisdiction.US_NE: "the Nebraska Data Privacy Act",
    Jurisdiction.US_NH: "New Hampshire's consumer data privacy law (RSA 507-H)",
    Jurisdiction.US_NJ: "the New Jersey Data Privacy Act",
    Jurisdiction.US_TN: "the Tennessee Information Protection Act",
    Jurisdiction.US_MD: "the Maryland Online Data Privacy Act",
    Jurisdiction.US_IN: "the Indiana Consumer Data Protection Act",
    Jurisdiction.US_KY: "the Kentucky Consumer Data Protection Act",
    Jurisdiction.US_RI: "the Rhode Island Data Transparency and Privacy Protection Act",
    Jurisdiction.US_NO_STATE_LAW: (
        "our privacy policy, which gives residents of every US state the rights state privacy "
        "laws give"
    ),
    Jurisdiction.EU: "the GDPR",
    Jurisdiction.GB: "the UK GDPR",
}
"""The law's name, as a notice tells a requester which law protects them."""


class RequestType(StrEnum):
    ACCESS = "access"
    DELETION = "deletion"
    CORRECTION = "correction"
    PORTABILITY = "portability"
    OPT_OUT = "opt_out"
    LIMIT_SENSITIVE = "limit_sensitive"
    RESTRICTION = "restriction"
    OBJECTION = "objection"
    CONSENT_WITHDRAWAL = "consent_withdrawal"
    # Minnesota: question the result of a profiling decision, learn its reasons and the data
    # used, correct that data and have the decision re-evaluated (Minn. Stat. §325M.14 subd. 1(g)).
    PROFILING_REVIEW = "profiling_review"
    APPEAL = "appeal"


SUBMITTABLE_IN_ORDER: Final = (
    RequestType.ACCESS,
    RequestType.DELETION,
    RequestType.CORRECTION,
    RequestType.PORTABILITY,
    RequestType.OPT_OUT,
    RequestType.LIMIT_SENSITIVE,
    RequestType.RESTRICTION,
    RequestType.OBJECTION,
    RequestType.CONSENT_WITHDRAWAL,
    RequestType.PROFILING_REVIEW,
)
"""The rights carried out end to end, in the order forms and notices list them."""
SUBMITTABLE: Final = frozenset(SUBMITTABLE_IN_ORDER)

RIGHT_WORDS: Final[dict[RequestType, str]] = {
    RequestType.ACCESS: "to access your personal information",
    RequestType.DELETION: "to have your personal information deleted",
    RequestType.CORRECTION: "to have inaccurate personal information corrected",
    RequestType.PORTABILITY: "to receive your personal information in a portable format",
    RequestType.OPT_OUT: "to opt out of the sale or sharing of your personal information",
    RequestType.LIMIT_SENSITIVE: "to limit the use of your sensitive personal information",
    RequestType.RESTRICTION: "to restrict the processing of your personal data",
    RequestType.OBJECTION: "to object to the processing of your personal data",
    RequestType.CONSENT_WITHDRAWAL: "to withdraw your consent to the processing of your data",
    RequestType.PROFILING_REVIEW: (
        "to question a decision made by profiling you, and have it reviewed by a person"
    ),
    RequestType.APPEAL: "to appeal our decision",
}
"""Each right in the words a notice uses for it."""


class VerificationStandard(StrEnum):
    """How sure we must be that a requester is who they say (11 CCR §7062)."""

    NONE = "none"
    REASONABLE = "reasonable"
    REASONABLY_HIGH = "reasonably_high"
