"""The regions a school can be in, with what follows from each: the country whose
phone numbers need no +prefix, and the defaults for a new school."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Region:
    """A region's defaults. `phone_country` is the ISO 3166 code `phonenumbers` uses
    to read numbers written without a country code."""

    id: str
    phone_country: str
    language: str
    timezone: str


# The ids are those of the content folders and of the onboarding's region question.
REGIONS: dict[str, Region] = {
    "flanders": Region("flanders", phone_country="BE", language="nl",
                       timezone="Europe/Brussels"),
    "finland": Region("finland", phone_country="FI", language="fi",
                      timezone="Europe/Helsinki"),
}


def region(region_id: str) -> Region:
    """The region with this id (KeyError if unknown: callers validate first)."""
    return REGIONS[region_id]
