"""Which law applies, from where the requester lives, when the intake system does not say.

Residence is an ISO 3166 code: `US-CA` style subdivisions for US states, a country code (with
an optional subdivision) elsewhere. A US state or territory without a privacy law in force is
`Jurisdiction.US_NO_STATE_LAW` (honoured or not by the HONOUR_STATES_WITHOUT_LAW setting); a
residence outside the US, the EEA and the UK is `Jurisdiction.UNCOVERED`. Either way the
request is answered, not refused in silence. A code that is not ISO 3166 at all is an error
naming it, so a typo is never mistaken for a place without a law.
"""

from __future__ import annotations

import re
from typing import Final

from rights.deadlines import EEA_STATES
from rights.terms import Jurisdiction

# fmt: off
COUNTRIES: Final = frozenset({
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX",
    "AZ", "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ",
    "BR", "BS", "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK",
    "CL", "CM", "CN", "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM",
    "DO", "DZ", "EC", "EE", "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR",
    "GA", "GB", "GD", "GE", "GF", "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS",
    "GT", "GU", "GW", "GY", "HK", "HM", "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN",
    "IO", "IQ", "IR", "IS", "IT", "JE", "JM", "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN",
    "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC", "LI", "LK", "LR", "LS", "LT", "LU", "LV",
    "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK", "ML", "MM", "MN", "MO", "MP", "MQ",
    "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA", "NC", "NE", "NF", "NG", "NI",
    "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG", "PH", "PK", "PL", "PM",
    "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW", "SA", "SB", "SC",
    "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS", "ST", "SV",
    "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO", "TR",
    "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "XK", "YE", "YT", "ZA", "ZM", "ZW"
})
US_SUBDIVISIONS: Final = frozenset({
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN",
    "IA", "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH",
    "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT",
    "VT", "VA", "WA", "WV", "WI", "WY", "AS", "GU", "MP", "PR", "UM", "VI"
})
# fmt: on
"""ISO 3166-1 alpha-2 (with XK, Kosovo's common code) and ISO 3166-2:US."""

US_STATE_NAMES: Final[dict[str, str]] = {
    "US-AL": "Alabama", "US-AK": "Alaska", "US-AZ": "Arizona", "US-AR": "Arkansas",
    "US-CA": "California", "US-CO": "Colorado", "US-CT": "Connecticut", "US-DE": "Delaware",
    "US-DC": "District of Columbia", "US-FL": "Florida", "US-GA": "Georgia", "US-HI": "Hawaii",
    "US-ID": "Idaho", "US-IL": "Illinois", "US-IN": "Indiana", "US-IA": "Iowa",
    "US-KS": "Kansas", "US-KY": "Kentucky", "US-LA": "Louisiana", "US-ME": "Maine",
    "US-MD": "Maryland", "US-MA": "Massachusetts", "US-MI": "Michigan", "US-MN": "Minnesota",
    "US-MS": "Mississippi", "US-MO": "Missouri", "US-MT": "Montana", "US-NE": "Nebraska",
    "US-NV": "Nevada", "US-NH": "New Hampshire", "US-NJ": "New Jersey", "US-NM": "New Mexico",
    "US-NY": "New York", "US-NC": "North Carolina", "US-ND": "North Dakota", "US-OH": "Ohio",
    "US-OK": "Oklahoma", "US-OR": "Oregon", "US-PA": "Pennsylvania", "US-RI": "Rhode Island",
    "US-SC": "South Carolina", "US-SD": "South Dakota", "US-TN": "Tennessee", "US-TX": "Texas",
    "US-UT": "Utah", "US-VT": "Vermont", "US-VA": "Virginia", "US-WA": "Washington",
    "US-WV": "West Virginia", "US-WI": "Wisconsin", "US-WY": "Wyoming",
    "US-AS": "American Samoa", "US-GU": "Guam", "US-MP": "Northern Mariana Islands",
    "US-PR": "Puerto Rico", "US-UM": "U.S. Minor Outlying Islands", "US-VI": "U.S. Virgin Islands",
}  # fmt: skip
EEA_COUNTRY_NAMES: Final[dict[str, str]] = {
    "AT": "Austria", "BE": "Belgium", "BG": "Bulgaria", "HR": "Croatia", "CY": "Cyprus",
    "CZ": "Czechia", "DK": "Denmark", "EE": "Estonia", "FI": "Finland", "FR": "France",
    "DE": "Germany", "GR": "Greece", "HU": "Hungary", "IS": "Iceland", "IE": "Ireland",
    "IT": "Italy", "LV": "Latvia", "LI": "Liechtenstein", "LT": "Lithuania",
    "LU": "Luxembourg", "MT": "Malta", "NL": "Netherlands", "NO": "Norway", "PL": "Poland",
    "PT": "Portugal", "RO": "Romania", "SK": "Slovakia", "SI": "Slovenia", "ES": "Spain",
    "SE": "Sweden",
}  # fmt: skip
"""The places a requester picks from on the forms, by the code `jurisdiction_for_residence`
takes; any other country is given by its ISO code."""

_CODE = re.compile(r"(?P<country>[A-Z]{2})(?:-(?P<subdivision>[A-Z0-9]{1,3}))?")
_UK = {"GB", "UK"}


def jurisdiction_for_residence(residence: str) -> Jurisdiction:
    """The law for a residence code; `US_NO_STATE_LAW` for a US state without one, else
    `UNCOVERED` where none applies.

    A code that is not ISO 3166 is a `ValueError` whose message says what is wrong with it
    (without repeating it, as API errors never echo what was sent).
    """
    code = residence.strip().upper()
    match = _CODE.fullmatch(code)
    if match is None:
        raise ValueError("not an ISO 3166 code such as US-CA or IE")
    country, subdivision = match["country"], match["subdivision"]
    if country in _UK:
        return Jurisdiction.GB
    if country not in COUNTRIES:
        raise ValueError("names no ISO 3166 country")
    if country in EEA_STATES:
        return Jurisdiction.EU
    if country != "US":
        return Jurisdiction.UNCOVERED
    if subdivision not in US_SUBDIVISIONS:
        raise ValueError("give the US state as US-XX, such as US-CA")
    try:
        return Jurisdiction(code)
    except ValueError:
        return Jurisdiction.US_NO_STATE_LAW


def country_of(residence: str | None, jurisdiction: str) -> str | None:
    """The requester's country: their residence (`US-CA`, `IE`), else the law's (`US-…`, GB)."""
    code = (residence or jurisdiction).strip().upper()
    country = code.split("-")[0]
    if country == "UK":
        return "GB"
    return country if len(country) == 2 and country != "EU" else None
