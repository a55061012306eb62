"""The emergency numbers message: who to call now, and the region's help lines.

Used by the engine (the `show_helplines` action, behind the "sos" command) and by the
safeguarding interceptor, so a parent always reads the same text. The numbers come from
`content/safeguarding/helplines.yaml`; only the words around them are translated.
"""

from __future__ import annotations

from bot.engine.library import Library, RegionHelplines

DANGER_NOW = "safeguarding.danger_now"
AGAIN = "safeguarding.again"
BULLET = "• "


def helpline_texts(library: Library, language: str | None, region: str | None) -> list[str]:
    """The message texts (one per region) with the numbers for `region`, or for every
    region when it is not known, in `language`. The emergency number comes first, once
    if every region shown shares it; the last message says how to see them again."""
    own = library.helplines.get(region or "")
    regions = [own] if own is not None else list(library.helplines.values())
    if not regions:
        return []
    shared = len({r.emergency for r in regions}) == 1
    texts = []
    for index, help_ in enumerate(regions):
        parts = []
        if index == 0 or not shared:
            parts.append(library.text(language, DANGER_NOW, {"number": help_.emergency}))
        parts.append(_lines(library, language, help_))
        texts.append("\n\n".join(parts))
    texts[-1] += "\n\n" + library.text(language, AGAIN, {})
    return texts


def _lines(library: Library, language: str | None, help_: RegionHelplines) -> str:
    lines = [library.text(language, help_.heading, {})]
    lines.extend(BULLET + library.text(language, line.text, {"number": line.number})
                 for line in help_.lines)
    return "\n".join(lines)
