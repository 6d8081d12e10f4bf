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
    EU = "EU"
    GB = "GB"


class RequestType(StrEnum):
    ACCESS = "access"
    DELETION = "deletion"
    CORRECTION = "correction"
    PORTABILITY = "portability"
    OPT_OUT = "opt_out"
    LIMIT_SENSITIVE = "limit_sensitive"
    RESTRICTION = "restriction"
    OBJECTION = "objection"
    APPEAL = "appeal"


SUBMITTABLE: Final = frozenset(
    {
        RequestType.ACCESS,
        RequestType.DELETION,
        RequestType.CORRECTION,
        RequestType.PORTABILITY,
        RequestType.OPT_OUT,
        RequestType.LIMIT_SENSITIVE,
    }
)


class VerificationStandard(StrEnum):
    """How sure we must be that a requester is who they say (11 CCR §7062)."""

    NONE = "none"
    REASONABLE = "reasonable"
    REASONABLY_HIGH = "reasonably_high"
