"""How a data point a requester types is compared with the one on file.

Each kind is parsed into one canonical form, and a value that parses to nothing (on either
side) is missing, never a match: an empty phone on file must not match an answer without
digits. Phones are compared as E.164 numbers (`phonenumbers`, Google's libphonenumber), so
`+44 415 555 0101` is not `+1 415 555 0101`; a number typed without a country code is read in
the country of the number on file. Dates of birth are ISO dates (YYYY-MM-DD) and nothing else.
Postal codes follow the country of the requester's residence: US ZIP codes by their first five
digits (ZIP+4 allowed), elsewhere letters and digits without spaces or dashes.
"""

from __future__ import annotations

import re
from datetime import date

import phonenumbers

from rights.models import DataPoint

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_US_ZIP = re.compile(r"^(\d{5})(?:-?\d{4})?$")


def phone_on_file(value: str) -> phonenumbers.PhoneNumber | None:
    """The number on file, which carries its country code (+…); None if it is no number."""
    return _parse_phone(value, None)


def _parse_phone(value: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_possible_number(number) else None


def canonical(point: DataPoint, value: str, *, country: str | None, on_file: str) -> str | None:
    """`value` in the form it is compared in, or None where it says nothing.

    `on_file` is the record's own value of the same kind: a phone typed without its country
    code is read in the country of the number on file.
    """
    value = value.strip()
    if point is DataPoint.PHONE:
        known = phone_on_file(on_file)
        region = phonenumbers.region_code_for_number(known) if known else None
        number = _parse_phone(value, region)
        if number is None:
            return None
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if point is DataPoint.DATE_OF_BIRTH:
        if not _ISO_DATE.match(value):
            return None
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            return None
    return postal_code(value, country)


def postal_code(value: str, country: str | None) -> str | None:
    """A postal code in its country's canonical form, or None where it is none."""
    if country == "US":
        found = _US_ZIP.match(value.replace(" ", ""))
        return found.group(1) if found else None
    compact = re.sub(r"[\s-]", "", value).upper()
    return compact if compact.isalnum() else None
