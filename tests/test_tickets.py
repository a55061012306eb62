"""Tickets and volunteers through the real dispatcher, interceptors and jobs, on SQLite
and PostgreSQL: relay, no talking over the volunteer, global commands, claiming races,
removal, language routing, escalation, masking, satisfaction and statistics."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlmodel import col, select

from bot.engine import SessionState
from bot.messages import OutboundMessage
from bot.storage import contacts, retention, tickets, volunteers
from bot.storage.tables import Contact, OutboxMessage
from bot.storage.ticket_tables import AuditEntry, TicketMessage
from bot.tickets import stats
from bot.tickets.opening import open_ticket
from bot.tickets.parent_prompts import rating_question
from bot.tickets.staff import remove

from .tickets_support import PARENT, Desk, Person, desk  # noqa: F401 (a fixture)

MENU = "What would you like to do?"
QUESTION = "How do I choose a school for my son?"


def texts(messages: list[OutboundMessage]) -> str:
    return "\n---\n".join(m.text for m in messages)


async def asked(desk: Desk, parent: Person, question: str = QUESTION) -> int:  # noqa: F811
    """The parent asks a person (the "person" command), writes the question, and the
    volunteers are told. Returns the ticket's pseudonym."""
    parent.says("person")
    parent.says(question)
    await desk.relay()
    return desk.tickets()[-1].pseudonym


# -- the whole relay ------------------------------------------------------------------------

async def test_a_question_goes_to_a_volunteer_and_the_answer_comes_back(
        desk: Desk) -> None:  # noqa: F811
    parent = desk.parent()
    sara = desk.volunteer("Sara", languages=["en", "nl"])
    told = texts(parent.says("person"))
    assert "Write your question in one message" in told
    assert "I have asked a person" not in told  # the ticket's note replaces the flow's
    told = texts(parent.says(QUESTION))
    assert "A volunteer will read your question" in told
    assert "This can take a day" in told
    assert MENU not in told

    await desk.relay()
    notice = texts(sara.inbox())
    pseudonym = desk.tickets()[0].pseudonym
    assert f"Parent {pseudonym}, English, flanders" in notice
    assert QUESTION in notice
    assert f"/claim_{pseudonym}" in notice

    assert f"Parent {pseudonym} is yours" in texts(sara.says(f"/claim_{pseudonym}"))
    assert "A volunteer is reading your question now" in texts(parent.inbox())
    await desk.relay()
    assert QUESTION in texts(sara.inbox())  # the question again, now as theirs

    assert sara.says("Visit the open days in March.") == []
    desk.later(5)
    sara.says("And ask the CLB.")
    assert parent.inbox() == []  # relayed by the job, not inside the volunteer's turn
    await desk.relay()
    answers = parent.inbox()
    assert [m.text for m in answers] == ["The volunteer writes:\n\nVisit the open days in March.",
                                         "The volunteer writes:\n\nAnd ask the CLB."]
    parent.says("Thank you, and when are they?")
    await desk.relay()
    assert "when are they?" in texts(sara.inbox())

    assert "is closed" in texts(sara.says("/done"))
    assert parent.inbox() == []  # asked after the last answer went out, by the job
    await desk.relay()
    rating = parent.inbox()
    assert "Did this help you?" in rating[0].text
    assert [c.label for c in rating[0].choices] == ["★", "★★", "★★★", "★★★★", "★★★★★"]
    assert rating[0].question == rating_question(desk.tickets()[0].id or 0)

    back = parent.says("4")
    assert "Thank you for your answer" in back[0].text
    assert MENU in back[-1].text
    assert "gave your help 4 out of 5" in texts(sara.inbox())
    ticket = desk.tickets()[0]
    assert (ticket.status, ticket.satisfaction, ticket.prompt) == ("closed", 4, None)
    assert ticket.claimed_at == ticket.created_at
    assert ticket.first_answer_at == ticket.created_at
    # Back in the bot: the engine answers again.
    assert MENU in texts(parent.says("menu"))
    with desk.db.session() as session:
        actions = [(a.action, a.volunteer_id is not None) for a in
                   tickets.audit_trail(session, ticket.id or 0)]
    assert ("claimed", True) in actions
    assert ("answered", True) in actions
    assert ("viewed", True) in actions
    assert ("notified", True) in actions
    assert ("rated", False) in actions


async def test_the_rating_buttons_and_skipping_the_rating(desk: Desk) -> None:  # noqa: F811
    parent = desk.parent()
    sara = desk.volunteer("Sara", languages=["en"])
    pseudonym = await asked(desk, parent)
    sara.says(f"/claim {pseudonym}")
    sara.says("/done")
    await desk.relay()
    prompt = parent.inbox()[-1]
    parent.says(choice="5", question=prompt.question)
    assert desk.tickets()[0].satisfaction == 5

    pseudonym = await asked(desk, parent, "Another question")
    sara.says(f"/claim {pseudonym}")
    sara.says("/done")
    await desk.relay()
    parent.inbox()
    assert MENU in texts(parent.says("menu"))  # skipping the rating: back in the bot
    assert desk.tickets()[1].satisfaction is None


# -- no talking over the volunteer --------------------------------------------------------------

async def test_while_a_ticket_is_open_the_bot_stays_quiet(desk: Desk) -> None:  # noqa: F811
    parent = desk.parent()
    await asked(desk, parent)
    for text in ("1", "hello?", "school", "klassenraad"):
        assert parent.says(text) == []
    assert len(desk.tickets()) == 1
    with desk.db.session() as session:
        words = [m.text for m in tickets.messages_of(session, desk.tickets()[0].id or 0)]
    assert words == [QUESTION, "1", "hello?", "school", "klassenraad"]


async def test_menu_asks_before_taking_the_question_back(desk: Desk) -> None:  # noqa: F811
    parent = desk.parent()
    sara = desk.volunteer("Sara", languages=["en"])
    pseudonym = await asked(desk, parent)
    sara.says(f"/claim {pseudonym}")
    sara.inbox(), parent.inbox()

    prompt = parent.says("menu")
    assert "Do you want to take it back?" in prompt[0].text
    assert [c.id for c in prompt[0].choices] == ["keep", "withdraw"]
    assert "stays open" in texts(parent.says("1"))
    assert desk.tickets()[0].status == "claimed"

    prompt = parent.says("/menu")
    done = parent.says(choice="withdraw", question=prompt[0].question)
    assert "I have taken your question back" in done[0].text
    assert MENU in done[-1].text
    assert desk.tickets()[0].status == "withdrawn"
    assert f"Parent {pseudonym} has taken the question back" in texts(sara.inbox())
    assert "no question at the moment" in texts(sara.says("Are you still there?"))


async def test_global_commands_still_work_while_a_ticket_is_open(
        desk: Desk) -> None:  # noqa: F811
    parent = desk.parent()
    await asked(desk, parent)
    # Language: the engine asks and answers; the ticket stays, then the bot is quiet again.
    assert "Choose your language" in texts(parent.says("language"))
    assert "from now on" in texts(parent.says("English"))
    assert parent.says("still there?") == []
    # Asking for a person again: one ticket at a time.
    assert "You already have a question open" in texts(parent.says("person"))
    assert len(desk.tickets()) == 1
    # Stop: the question is withdrawn, and the bot stops.
    assert "I will send you no more messages" in texts(parent.says("stop"))
    assert desk.tickets()[0].status == "withdrawn"


async def test_delete_my_data_erases_the_tickets_words(desk: Desk) -> None:  # noqa: F811
    parent = desk.parent()
    sara = desk.volunteer("Sara", languages=["en"])
    pseudonym = await asked(desk, parent)
    sara.says(f"/claim {pseudonym}")
    sara.says("Here is my answer.")
    sara.inbox()
    assert "delete everything" in texts(parent.says("delete my data"))
    assert "I have deleted your data" in texts(parent.says("yes"))
    with desk.db.session() as session:
        assert session.exec(select(TicketMessage)).all() == []
    await desk.relay()
    ticket = desk.tickets()[0]
    assert (ticket.status, ticket.contact_id) == ("withdrawn", None)  # the numbers stay
    assert f"Parent {pseudonym} has taken the question back" in texts(sara.inbox())


# -- volunteers ---------------------------------------------------------------------------------

async def test_two_volunteers_claim_at_once_and_exactly_one_wins(
        desk: Desk) -> None:  # noqa: F811
    parent = desk.parent()
    sara = desk.volunteer("Sara", languages=["en"])
    omar = desk.volunteer("Omar", languages=["en"])
    pseudonym = await asked(desk, parent)
    sara.inbox(), omar.inbox()
    start = threading.Barrier(2)
    answers: dict[str, str] = {}

    def claim(name: str, person: Person) -> None:
        start.wait()
        answers[name] = texts(person.says(f"/claim {pseudonym}"))

    threads = [threading.Thread(target=claim, args=(name, person))
               for name, person in (("sara", sara), ("omar", omar))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    won = [name for name, text in answers.items() if "is yours" in text]
    lost = [name for name, text in answers.items() if "just before you" in text]
    assert (len(won), len(lost)) == (1, 1), answers
    with desk.db.session() as session:
        claims = session.exec(select(AuditEntry).where(AuditEntry.action == "claimed")).all()
    assert len(claims) == 1


async def test_link_codes_work_once_and_only_ours_are_taken(desk: Desk) -> None:  # noqa: F811
    with desk.db.session() as session, session.begin():
        volunteer = volunteers.add_volunteer(
            session, display_name="Lina", languages=["ar"], regions=[], school_ids=[],
            interface_language="nl", now=desk.clock())
        code = volunteers.new_link_code(session, volunteer.id or 0, desk.clock())
    lina = Person(desk, "telegram", "987654001")
    assert "Welkom, Lina!" in texts(lina.says(f"/link {code.upper()}"))
    other = Person(desk, "telegram", "987654002")
    assert "expired or was used already" in texts(other.says(f"/start {code}"))
    # A code that is not a volunteer's (a school's join code) is left to the others.
    assert "expired" not in texts(other.says("/start school-42"))
    desk.later(60 * 24 * 8)
    with desk.db.session() as session, session.begin():
        late = volunteers.new_link_code(session, volunteer.id or 0, desk.clock())
    desk.later(60 * 24 * 8)
    assert "expired" in texts(other.says(f"/start {late}"))


async def test_a_removed_volunteer_can_do_nothing(desk: Desk) -> None:  # noqa: F811
    parent = desk.parent()
    sara = desk.volunteer("Sara", languages=["en"])
    omar = desk.volunteer("Omar", languages=["en"])
    pseudonym = await asked(desk, parent)
    sara.says(f"/claim {pseudonym}")
    sara.inbox(), omar.inbox()
    sara_id = volunteer_id(desk, "Sara")
    with desk.db.session() as session, session.begin():
        assert remove(session, sara_id, desk.clock())
    ticket = desk.tickets()[0]
    assert (ticket.status, ticket.claimed_by, ticket.notified_at) == ("open", None, None)

    for attempt in ("/tickets", f"/claim {pseudonym}", "my answer", "/done", "/help",
                    "/start"):
        assert [m.text for m in sara.says(attempt)] == [
            "You no longer have access to parents' questions."]
    parent.says("Anyone there?")
    await desk.relay()
    assert sara.inbox() == []  # no notice, no words
    assert "New question" in texts(omar.inbox())  # back in the queue for the others
    assert parent.inbox() == []  # nothing the removed volunteer wrote went out
    with desk.db.session() as session:
        assert not tickets.messages_of(session, ticket.id or 0,
                                       direction=tickets.TO_PARENT)


async def test_tickets_list_release_and_several_tickets(desk: Desk) -> None:  # noqa: F811
    sara = desk.volunteer("Sara", languages=["en"])
    first = await asked(desk, desk.parent())
    second = await asked(desk, desk.parent("+32470123999"), "A second question")
    overview = texts(sara.says("/tickets"))
    assert f"Parent {first}" in overview
    assert f"/claim_{second}" in overview
    assert "must be a number" not in texts(sara.says("/claim"))
    assert "for example /claim 4821" in texts(sara.says("/claim"))
    assert "No question with number 1" in texts(sara.says("/claim 1"))
    sara.says(f"/claim {first}")
    sara.says(f"/claim {second}")
    assert "more than one question" in texts(sara.says("an answer for whom?"))
    sara.says(f"/reply {second} For the second parent.")
    assert f"Parent {second} is back in the queue" in texts(sara.says(f"/release_{second}"))
    assert "I do not know this command" in texts(sara.says("/frobnicate"))
    assert "Yours:" in texts(sara.says("/tickets"))
    sara.says("Now it is clear whom this is for.")
    with desk.db.session() as session:
        words = [(m.ticket_id, m.text) for m in session.exec(
            select(TicketMessage).where(TicketMessage.direction == tickets.TO_PARENT))]
    ids = {t.pseudonym: t.id for t in desk.tickets()}
    assert words == [(ids[second], "For the second parent."),
                     (ids[first], "Now it is clear whom this is for.")]


# -- language routing ---------------------------------------------------------------------------

async def test_volunteers_of_the_parents_language_come_first(desk: Desk) -> None:  # noqa: F811
    parent = desk.parent(language="nl")
    lotte = desk.volunteer("Lotte", languages=["nl"], interface="nl")
    omar = desk.volunteer("Omar", languages=["ar", "en"], interface="en")
    await asked(desk, parent, "Hoe kies ik een school?")
    assert "Nieuwe vraag" in texts(lotte.inbox())
    assert omar.inbox() == []
    desk.later(29)
    await desk.relay()
    assert omar.inbox() == []
    desk.later(2)  # nobody claimed within the configured wait: the others are told
    await desk.relay()
    notice = texts(omar.inbox())
    assert "Hoe kies ik een school?" in notice  # the original...
    # ...and, with no model installed, a note instead of a translation.
    assert "No machine translation is installed for this language: Nederlands" in notice
    assert lotte.inbox() == []  # told once


async def test_without_a_volunteer_of_the_language_the_others_are_told_at_once(
        desk: Desk) -> None:  # noqa: F811
    parent = desk.parent(language="ar")
    omar = desk.volunteer("Omar", languages=["en"], regions=("flanders",))
    desk.volunteer("Elsewhere", languages=["en"], regions=("finland",))
    pseudonym = await asked(desk, parent, "كيف أختار مدرسة؟")
    assert "كيف أختار مدرسة؟" in texts(omar.inbox())
    omar.says(f"/claim {pseudonym}")
    assert "يقرأ سؤالك الآن" in texts(parent.inbox())
    omar.says("Please visit the school.")
    await desk.relay()
    answer = parent.inbox()
    assert "لم أستطع ترجمة هذا" in answer[-1].text
    assert "Please visit the school" in answer[-1].text
    assert "went out untranslated" in texts(omar.inbox())


# -- escalation ---------------------------------------------------------------------------------

async def test_unclaimed_tickets_are_reminded_then_escalated(desk: Desk) -> None:  # noqa: F811
    parent = desk.parent()
    sara = desk.volunteer("Sara", languages=["en"])
    urgent_parent = desk.parent("+32470123777")
    await asked(desk, parent)
    sara.inbox()
    desk.later(60)
    await desk.escalate()
    assert sara.inbox() == []
    desk.later(61)  # two hours
    assert await desk.escalate() == 1
    assert "still waiting for a volunteer" in texts(sara.inbox())
    assert parent.inbox() == []
    await desk.escalate()
    assert sara.inbox() == []  # once
    desk.later(60 * 22)  # a day
    assert await desk.escalate() == 1
    told = texts(parent.inbox())
    assert "I have also told the school" in told
    assert "Send menu" in told
    ticket = desk.tickets()[0]
    assert ticket.reminded_at is not None
    assert ticket.escalated_at is not None
    with desk.db.session() as session:
        escalated = session.exec(select(AuditEntry).where(
            AuditEntry.action == "escalated")).one()
    assert escalated.detail == "no school"

    # Priority tickets (danger words, opened by the safeguarding check) go four times faster.
    with desk.db.session() as session, session.begin():
        contact_id = contacts.find_contact(session, "web", "+32470123777")
        locked = contacts.lock_contact(session, contact_id or 0)
        assert locked is not None
        opened = open_ticket(session, locked, SessionState(language="en", region="flanders"),
                             library=desk.runtime.library, topic="safeguarding",
                             question="Someone hurts my child", flow=None, priority=True,
                             now=desk.clock())
    assert "before other questions" in texts([e.message for e in opened.effects])
    assert opened.state.stack == []
    assert not opened.state.waiting
    await desk.relay()
    assert "URGENT" in texts(sara.inbox())
    desk.later(31)
    assert await desk.escalate() == 1
    assert "still waiting" in texts(sara.inbox())
    assert urgent_parent.inbox() == []


# -- masking ------------------------------------------------------------------------------------

async def test_volunteers_never_see_a_phone_number_chat_id_or_contact(
        desk: Desk) -> None:  # noqa: F811
    chat = "987654321777"
    parent = desk.parent(chat, channel="telegram")
    whatsapp = desk.parent(PARENT)
    sara = desk.volunteer("Sara", languages=["en"])
    for person in (parent, whatsapp):
        pseudonym = await asked(desk, person, "My number is in my profile, can you call?")
        sara.says(f"/claim {pseudonym}")
        sara.says("I cannot call, but I can write here.")
        await desk.relay()
        person.says("OK")
        await desk.relay()
        sara.says(f"/done {pseudonym}")
        await desk.relay()
    sara.says("/tickets")
    with desk.db.session() as session:
        contact_ids = [str(c.id) for c in session.exec(select(Contact)) if c.address in (
            chat, PARENT)]
        to_volunteers = [row.payload.get("text", "") for row in session.exec(
            select(OutboxMessage).where(col(OutboxMessage.address) == sara.address))]
    assert len(to_volunteers) >= 10
    for text in to_volunteers:
        assert "987654321" not in text
        assert "470123" not in text
        assert "+32" not in text
        assert not any(f"contact {c}" in text or f"#{c}" in text for c in contact_ids)
        assert "Parent " in text or text.startswith(("What you can do", "Welcome")) or \
            "Yours" in text or "Waiting" in text or "No questions" in text


# -- statistics ---------------------------------------------------------------------------------

async def test_statistics(desk: Desk) -> None:  # noqa: F811
    sara = desk.volunteer("Sara", languages=["en", "nl"])
    for minutes_to_claim, language, rating in ((10, "en", 5), (30, "nl", 3), (50, "en", None)):
        parent = desk.parent(f"+3247012{minutes_to_claim:04d}", language=language)
        pseudonym = await asked(desk, parent, "A question")
        desk.later(minutes_to_claim)
        sara.says(f"/claim {pseudonym}")
        desk.later(5)
        sara.says("An answer")
        sara.says("/done")
        await desk.relay()
        parent.inbox()
        if rating is not None:
            parent.says(str(rating))
    await asked(desk, desk.parent("+32470129999"), "Still open")
    with desk.db.session() as session:
        figures = stats.compute(tickets.all_tickets(session))
    assert (figures.total, figures.open_now) == (4, 1)
    assert figures.by_status == {"closed": 3, "open": 1}
    assert figures.time_to_claim.count == 3
    assert figures.time_to_claim.median == 30
    assert figures.time_to_first_answer.median == 35
    assert figures.time_to_claim.p90 is not None
    assert 30 < figures.time_to_claim.p90 <= 50
    assert figures.satisfaction_average == 4
    assert figures.rated == 2
    assert figures.satisfaction == {1: 0, 2: 0, 3: 1, 4: 0, 5: 1}
    assert figures.by_language == {"en": 3, "nl": 1}
    assert figures.by_region == {"flanders": 4}
    rendered = stats.render(figures)
    assert "median 30" in rendered
    assert "By language: en: 3, nl: 1" in rendered


def volunteer_id(desk: Desk, name: str) -> int:  # noqa: F811
    with desk.db.session() as session:
        found = [v.id for v in volunteers.list_volunteers(session) if v.display_name == name]
    assert found
    assert found[0] is not None
    return found[0]


def test_old_ticket_words_go_with_the_retention_period(desk: Desk) -> None:  # noqa: F811
    parent = desk.parent()
    parent.says("person")
    parent.says(QUESTION)
    def words_left(days: int) -> int:
        with desk.db.session() as session, session.begin():
            retention.forget_old_text(session, desk.clock() + timedelta(days=days), 30)
            return len(session.exec(select(TicketMessage)).all())

    assert words_left(29) == 1
    assert words_left(31) == 0
    assert desk.tickets()[0].status == "open"


async def test_a_ticket_without_a_question_is_closed_after_a_day(
        desk: Desk) -> None:  # noqa: F811
    parent = desk.parent()
    parent.says("person")
    desk.later(60 * 23)
    assert await desk.escalate() == 0
    desk.later(60)
    assert await desk.escalate() == 1
    assert desk.tickets()[0].status == "withdrawn"
    assert parent.inbox() == []  # closed quietly: the parent had not asked anything
    assert MENU in texts(parent.says("hello"))  # back in the bot
