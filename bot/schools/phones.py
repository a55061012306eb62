"""Phone numbers: parsing what a school typed into the WhatsApp address the channel
uses ("whatsapp:+E164"), and masking numbers shown back to staff."""

from __future__ import annotations

import phonenumbers

WHATSAPP_PREFIX = "whatsapp:"
_MASK = "•"


class BadNumber(ValueError):
    """Not a valid phone number."""


def whatsapp_address(raw: str, default_country: str) -> str:
    """The WhatsApp address for a number written as people write them: "+32 470 12 34
    56", "0470/12.34.56" (read in `default_country`), "0032470123456"."""
    try:
        number = phonenumbers.parse(raw.strip(), default_country)
    except phonenumbers.NumberParseException as exc:
        raise BadNumber("not a phone number") from exc
    if not phonenumbers.is_valid_number(number):
        raise BadNumber("not a valid phone number")
    return WHATSAPP_PREFIX + phonenumbers.format_number(
        number, phonenumbers.PhoneNumberFormat.E164)


def masked(address: str) -> str | None:
    """A WhatsApp address as staff may see it: the country code and the last two digits
    ("+32 4•• •• •• 56"). None for addresses that are not phone numbers (Telegram)."""
    if not address.startswith(WHATSAPP_PREFIX):
        return None
    try:
        number = phonenumbers.parse(address.removeprefix(WHATSAPP_PREFIX))
    except phonenumbers.NumberParseException:
        return None
    shown = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    country = f"+{number.country_code}"
    rest = shown.removeprefix(country)
    digits = sum(ch.isdigit() for ch in rest)
    seen, out = 0, []
    for ch in rest:
        if ch.isdigit():
            seen += 1
            # Keep the first digit (a mobile/landline hint) and the last two.
            out.append(ch if seen == 1 or seen > digits - 2 else _MASK)
        else:
            out.append(ch)
    return country + "".join(out)
