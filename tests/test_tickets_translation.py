"""Machine translation both ways between a parent and a volunteer who share no language,
with tiny real argos packages (tests/argos_fixtures.py), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlmodel import col, select

from bot.storage.ticket_tables import TicketMessage
from bot.translation import ModelStore, TranslationConfig

from .tickets_support import Desk, desk  # noqa: F401 (a fixture)

pytest_plugins = ["tests.argos_fixtures"]
ArgosPackages = Callable[..., Path]  # the fixture's type (importing the plugin module
# here would stop pytest from rewriting its asserts)

DUTCH_QUESTION = "Kun je de brief van de school lezen?"
ENGLISH_ANSWER = "Thank you for your question about the exam."
EN_MARK = "(Translated by a computer. It may contain mistakes.)"
NL_MARK = "(Vertaald door een computer. Er kunnen fouten in staan.)"


def install_upper_models(desk: Desk, argos_packages: ArgosPackages) -> None:  # noqa: F811
    """nl→en and en→nl "upper" models: a translation is the text in capitals."""
    store = ModelStore(TranslationConfig.from_settings(desk.runtime.settings))
    for source, target in (("nl", "en"), ("en", "nl")):
        store.install_file(argos_packages(source, target, kind="upper"))


async def test_parent_and_volunteer_read_each_other_through_machine_translation(
        desk: Desk, argos_packages: ArgosPackages) -> None:  # noqa: F811
    install_upper_models(desk, argos_packages)
    parent = desk.parent(language="nl")
    omar = desk.volunteer("Omar", languages=["en", "ar"], interface="en")
    parent.says("/help")
    parent.says(DUTCH_QUESTION)
    await desk.relay()

    # No Dutch-speaking volunteer: Omar is told at once, with the original and a marked
    # machine translation into his interface language.
    notice = omar.inbox()[-1].text
    assert DUTCH_QUESTION in notice
    assert f"{DUTCH_QUESTION.upper()}\n\n{EN_MARK}" in notice
    pseudonym = desk.tickets()[0].pseudonym
    omar.says(f"/claim {pseudonym}")
    await desk.relay()
    relayed = omar.inbox()[-1].text
    assert relayed.startswith(f"Parent {pseudonym} writes:\n\n{DUTCH_QUESTION}\n\n")
    assert relayed.endswith(f"{DUTCH_QUESTION.upper()}\n\n{EN_MARK}")

    # His answer goes back in Dutch, marked in Dutch.
    omar.says(ENGLISH_ANSWER)
    await desk.relay()
    answer = parent.inbox()[-1]
    assert answer.text == f"De vrijwilliger schrijft:\n\n{ENGLISH_ANSWER.upper()}\n\n{NL_MARK}"
    assert ENGLISH_ANSWER not in answer.text

    with desk.db.session() as session:
        stored = list(session.exec(select(TicketMessage).order_by(col(TicketMessage.id))))
    assert [(m.direction, m.language, m.translation_language) for m in stored] == [
        ("to_volunteer", "nl", "en"), ("to_parent", "en", "nl")]
    assert stored[1].translation == f"{ENGLISH_ANSWER.upper()}\n\n{NL_MARK}"


async def test_a_volunteer_who_speaks_the_language_gets_no_translation(
        desk: Desk, argos_packages: ArgosPackages) -> None:  # noqa: F811
    install_upper_models(desk, argos_packages)
    parent = desk.parent(language="nl")
    lotte = desk.volunteer("Lotte", languages=["nl"], interface="en")
    parent.says("/help")
    parent.says(DUTCH_QUESTION)
    await desk.relay()
    notice = lotte.inbox()[-1].text
    assert DUTCH_QUESTION in notice
    assert DUTCH_QUESTION.upper() not in notice
    lotte.says(f"/claim {desk.tickets()[0].pseudonym}")
    lotte.says("Ja, dat kan.")
    await desk.relay()
    assert parent.inbox()[-1].text == "De vrijwilliger schrijft:\n\nJa, dat kan."
