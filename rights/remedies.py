"""The further rights a response must name, per jurisdiction.

States with an appeal right require the response to say how to appeal (e.g. Colo. Rev. Stat.
§6-1-1306(3), Va. Code §59.1-577(C)); GDPR Art. 12(4) and UK GDPR Art. 12(4) require naming the
supervisory authority and the judicial remedy on any refusal; California requires neither but
the CPPA accepts complaints.
"""

from __future__ import annotations

from rights.deadlines import granted_rights
from rights.terms import Jurisdiction, RequestType

_AUTHORITY: dict[Jurisdiction, str] = {
    Jurisdiction.US_CA: "the California Privacy Protection Agency (cppa.ca.gov)",
    Jurisdiction.US_CO: "the Colorado Attorney General",
    Jurisdiction.US_CT: "the Connecticut Attorney General",
    Jurisdiction.US_VA: "the Virginia Attorney General",
    Jurisdiction.US_UT: "the Utah Division of Consumer Protection",
    Jurisdiction.US_TX: "the Texas Attorney General",
    Jurisdiction.US_OR: "the Oregon Attorney General",
    Jurisdiction.US_FL: "the Florida Department of Legal Affairs",
    Jurisdiction.EU: "the data protection supervisory authority of your EU member state",
    Jurisdiction.GB: "the Information Commissioner's Office (ico.org.uk)",
}


def further_rights(jurisdiction: Jurisdiction) -> list[str]:
    """What the response tells the requester they may do next, under their law."""
    rights = []
    if RequestType.APPEAL in granted_rights(jurisdiction):
        rights.append(
            "You may appeal this decision by replying to this email with the word APPEAL "
            "and your reasons; we will answer within the period the law sets."
        )
    if jurisdiction in (Jurisdiction.EU, Jurisdiction.GB):
        rights.append(f"You may complain to {_AUTHORITY[jurisdiction]} and seek a judicial remedy.")
    else:
        rights.append(f"You may contact {_AUTHORITY[jurisdiction]}.")
    return rights
