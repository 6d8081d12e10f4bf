"""Which law applies, from where the requester lives, when the intake system does not say.

Residence is an ISO 3166 code: `US-CA` style subdivisions for US states, a country code for
the EEA and the UK. Only the laws this service implements are derived; anything else is an
error naming the residence, so a request is never handled under a law that does not apply.
"""

from __future__ import annotations

from rights.deadlines import EEA_STATES
from rights.terms import Jurisdiction

_UK = {"GB", "UK"}


def jurisdiction_for_residence(residence: str) -> Jurisdiction:
    """The law for a residence code; an error naming it where none applies."""
    code = residence.strip().upper()
    country = code.split("-")[0]
    if country in _UK:
        return Jurisdiction.GB
    if country in EEA_STATES:
        return Jurisdiction.EU
    try:
        return Jurisdiction(code)
    except ValueError:
        supported = ", ".join(j.value for j in Jurisdiction if j.value.startswith("US-"))
        raise ValueError(
            f"no supported law for residence {residence!r} (supported: {supported}, "
            "EEA countries, GB)"
        ) from None
