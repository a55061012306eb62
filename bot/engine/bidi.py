"""Right-to-left text: keep left-to-right fragments in their own direction.

In Arabic, Persian or Pashto text, a school term ("klassenraad"), a number ("1A") or
a link is left-to-right. Without help, phones may show its parts in the wrong order
around neutral characters. Each such fragment is wrapped in Unicode isolates
(LEFT-TO-RIGHT ISOLATE ... POP DIRECTIONAL ISOLATE), which phones display correctly.
"""

from __future__ import annotations

import re

LRI = "\u2066"
PDI = "\u2069"

# A run of Latin letters or digits, possibly with inner spaces and punctuation that
# belong to it ("A-attest", "09 210 10 10", "https://example.org/a-b", "1A").
_LTR = "0-9A-Za-zÀ-ɏ"
_LTR_RUN = re.compile(
    rf"https?://[^\s{PDI}]*[^\s.,:;!?{PDI}]"
    # A hyphen may end a word before a space: "Land- en tuinbouw" stays one fragment.
    # Only spaces join words: an isolate must never run across a line break.
    rf"|[{_LTR}](?:[{_LTR}]|[.,:/@%+'’_\-](?=[{_LTR}])|-(?=[ \t][{_LTR}])|[ \t](?=[{_LTR}]))*"
)


def isolate_ltr(text: str) -> str:
    """Wrap every left-to-right fragment of a right-to-left text in isolates."""
    if LRI in text:
        return text  # already done
    return _LTR_RUN.sub(lambda match: f"{LRI}{match.group(0)}{PDI}", text)
