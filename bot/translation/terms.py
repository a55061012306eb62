"""School words that stay in the local language in every translation.

A parent will meet these words in letters from school and in conversations, so
translations keep them as they are (the glossary flows explain them).
"""

from __future__ import annotations

DEFAULT_KEEP_TERMS: tuple[str, ...] = (
    # Flanders
    "klassenraad", "CLB", "A-attest", "B-attest", "C-attest", "finaliteit", "studiedomein",
    "OKAN", "oudercontact",
    # Finland
    "yhteishaku", "lukio", "ammatillinen koulutus", "TUVA", "opinto-ohjaaja", "Opintopolku",
    "Wilma",
)
