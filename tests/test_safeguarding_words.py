"""Danger words and help lines as data: what matches in each language, what must not
(ordinary school messages, and every text the bot itself sends), and the loader's
errors with file, line and column."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.content.safeguarding import load_danger_words, load_helplines
from bot.engine import Library
from bot.engine.danger import DangerPhrase, DangerWords, phrase_words, words_of
from bot.engine.helplines import helpline_texts
from bot.engine.library import Helpline, Language, RegionHelplines
from bot.flows.errors import FlowError, FlowErrors
from bot.library import ContentRoot, load_library

ROOT = Path(__file__).resolve().parents[1]

# (language, message) pairs that must match: the way parents type on a phone.
DANGER = [
    ("nl", "Mijn man slaat me elke avond"),
    ("nl", "mijn dochter wordt geslagen door haar vader"),
    ("nl", "Er is partnergeweld bij ons thuis"),
    ("nl", "Hij heeft de kinderen mishandeld."),
    ("nl", "ik krijg slaag van mijn broer"),
    ("nl", "Mijn zoon praat over zelfmoord"),
    ("nl", "mijn kind is vermist sinds gisteren"),
    ("nl", "ik voel me niet veilig thuis"),
    ("nl", "MIJN EX BEDREIGT ONS"),
    ("fi", "Meillä on perheväkivaltaa"),
    ("fi", "Lapseni kertoi lähisuhdeväkivallasta koulussa"),
    ("fi", "mieheni lyö minua"),
    ("fi", "Poikani puhuu itsemurhasta"),
    ("fi", "tytär on itsetuhoinen"),
    ("fi", "Hän uhkaili minua eilen"),
    ("fi", "lapseni on kadonnut"),
    ("fi", "pelkään miestäni"),
    ("ar", "زوجي يضربني كل يوم"),
    ("ar", "وزوجي يضربني"),  # "and my husband hits me": the و is joined to the word
    ("ar", "يَضْرِبُنِي"),  # with vowel marks
    ("ar", "یضربنی"),  # typed on a Persian keyboard
    ("ar", "يـضـربـني"),  # stretched with tatweel
    ("ar", "ابني يفكر في الانتحار"),
    ("ar", "ابنتي مفقودة منذ امس"),
    ("ar", "أنا خائفة من زوجي"),
    ("ar", "هناك عنف في البيت"),
    ("ar", "يهددني بالقتل"),
    ("en", "My husband hits me"),
    ("en", "she wants to kill herself"),
    ("en", "my son ran away from home"),
    ("fr", "Mon mari me frappe"),
    ("fr", "il m'a frappée hier"),
    ("tr", "Kocam beni dövüyor"),
    ("uk", "Чоловік б'є мене"),
    ("ru", "муж бьёт меня"),
    ("pl", "Mąż bije mnie"),
    ("ro", "Soțul mă bate"),
    ("bg", "мъжът ми ме бие ме"),
    ("fa", "شوهرم مرا کتک می‌زند"),
    ("fa", "پسرم به خودکشی فکر می‌کند"),
    ("ps", "زما مېړه ما وهي"),
    ("so", "ninkaygu wuu i garaaca"),
]

# Ordinary messages of parents about school: none may match, in any language's list.
SCHOOL = [
    "Mijn zoon is geslaagd voor zijn examen!",
    "Mag hij het vak Frans overslaan?",
    "Hij dreigt te blijven zitten, wat nu?",
    "Zijn jaar is in gevaar door zijn punten.",
    "Dat is geweldig nieuws",
    "Ik slaag er niet in om het formulier te vinden",
    "Ze wil later iets met geweldige dieren doen",
    "Poikani on vaarassa jäädä luokalle",
    "Hän loi hienon esityksen koulussa",
    "Tyttäreni pääsi lukioon, kiitos avusta",
    "Milloin yhteishaku alkaa?",
    "Lyömätön joukkue voitti turnauksen",
    "Pelkään koetta huomenna",
    "جدول الضرب صعب على ابني",
    "ابني مهدد بالرسوب هذا العام",
    "خطر ببالي سؤال عن المدرسة",
    "الملف مفقود من الموقع",
    "المعلم متشدد جدا",
    "بازار کار برای این رشته خوب است",
    "الهی بمیرم، خیلی خسته است",
    "ثبت نام طول میکشد",
    "Türkçe dil kursu var mı?",
    "Döviz kuru okul ücretini etkiler mi?",
    "Kayıt tarihi kaçırıldı mı?",
    "My son is in danger of failing maths",
    "He beat the deadline for the application",
    "Oceny gwałtownie spadły w tym roku",
    "Syn pobiegł do szkoły",
    "Grozi mu powtarzanie klasy",
    "Ему грозит отчисление, он под угрозой отчисления",
    "Ma fille aime la couleur violette",
    "Il est menacé d'exclusion",
    "E o bătaie de cap cu înscrierea",
    "Anul școlar e în pericol",
    "Това би ме интересувало",
    "Ardayga waa maqan maanta",
]


@pytest.fixture(scope="module")
def words() -> DangerWords:
    return load_danger_words(ROOT / "content")[0]


@pytest.mark.parametrize(("language", "text"), DANGER)
def test_danger_words_match_in_the_parents_language(words: DangerWords, language: str,
                                                    text: str) -> None:
    assert words.find(text, prefer=language) == language


@pytest.mark.parametrize("text", SCHOOL)
def test_ordinary_school_messages_match_nothing(words: DangerWords, text: str) -> None:
    assert words.find(text) is None


def test_a_message_in_another_language_than_the_parents_still_matches(
        words: DangerWords) -> None:
    assert words.find("Mijn man slaat me", prefer="ar") == "nl"


def test_nothing_the_bot_says_itself_matches(library: Library) -> None:
    """Every text and page in every language is about school: a danger list that matches
    one of them would fire on ordinary talk. (The help lines' own texts name dangers.)"""
    hits = [(language, key) for language, texts in library.texts.items()
            for key, text in texts.items()
            if not key.startswith(("safeguarding.", "command.emergency"))
            and library.danger_words.find(text) is not None]
    hits += [(language, page_id) for page_id, versions in library.pages.items()
             for language, page in versions.items()
             if any(library.danger_words.find(part) for part in page.parts)]
    assert hits == []


def test_every_shipped_language_has_a_list(library: Library) -> None:
    assert library.danger_words.languages == set(library.languages)


def test_whole_words_only() -> None:
    words = DangerWords([DangerPhrase("nl", phrase_words("slaat me")),
                         DangerPhrase("nl", phrase_words("*geweld")),
                         DangerPhrase("fi", phrase_words("*väkival*")),
                         DangerPhrase("nl", phrase_words("mishandel*"))])
    assert words.find("hij slaat me") == "nl"
    assert words.find("hij slaat mee") is None
    assert words.find("huiselijk geweld") == "nl"
    assert words.find("partnergeweld") == "nl"
    assert words.find("geweldig") is None
    assert words.find("perheväkivallan") == "fi"
    assert words.find("mishandeling") == "nl"
    assert words.find("kindermishandeling") is None  # no * in front: the word must start so
    assert words.find("") is None
    assert words.find("?!") is None


def test_words_are_normalised_like_the_engines_matching() -> None:
    assert words_of("  Hij SLAAT me!!") == ("hij", "slaat", "me")
    assert words_of("m'a frappé") == ("m", "a", "frappe")
    assert words_of("شوهرم‌ کتک") == words_of("شوهرم كتك")  # half-space and Arabic kaf
    assert phrase_words("*Väkival*") == ("*vakival*",)


# -- the numbers message ----------------------------------------------------------------------


def small_library() -> Library:
    texts = {"safeguarding.danger_now": "Danger? Call {number}.",
             "safeguarding.again": "Send sos.", "h.a": "In A:", "h.b": "In B:",
             "l.police": "{number}: police"}
    return Library(flows={}, texts={"en": texts}, languages={"en": Language("en", "English")},
                   helplines={"a": RegionHelplines("h.a", "112", (Helpline("101", "l.police"),)),
                              "b": RegionHelplines("h.b", "911", ())})


def test_the_numbers_of_the_parents_region() -> None:
    assert helpline_texts(small_library(), "en", "a") == [
        "Danger? Call 112.\n\nIn A:\n• 101: police\n\nSend sos."]


def test_every_region_when_the_region_is_unknown_each_with_its_own_emergency_number(
        ) -> None:
    assert helpline_texts(small_library(), "en", None) == [
        "Danger? Call 112.\n\nIn A:\n• 101: police",
        "Danger? Call 911.\n\nIn B:\n\nSend sos."]


# -- the loader ---------------------------------------------------------------------------------


@pytest.fixture
def content(tmp_path: Path) -> Path:
    """A copy of the real content folder."""
    shutil.copytree(ROOT / "content", tmp_path / "content")
    return tmp_path / "content"


def loader_errors(load: object, root: Path) -> list[str]:
    with pytest.raises(FlowErrors) as info:
        load(root)  # type: ignore[operator]
    return [str(error) for error in info.value.errors]


def test_keyword_list_errors_have_file_line_and_column(content: Path) -> None:
    path = content / "safeguarding" / "keywords" / "nl.yaml"
    path.write_text(
        "violence:\n"
        "  - \"sla*at\"\n"          # line 2: a * inside a word
        "  - \"ge*\"\n"             # line 3: a stem too short
        "  - \"geslagen\"\n"
        "  - \"Geslagen!\"\n"       # line 5: the same phrase again
        "abuse: []\n"               # line 6: an empty list
        "self_harm: [zelfmoord*]\n"
        "threat: [\"12\"]\n"        # line 8: only a number
        "missing: [vermist]\n"
        "danger: [x]\n",            # line 10: no such kind (and "unsafe" is missing)
        encoding="utf-8")
    errors = loader_errors(load_danger_words, content)
    where = str(path)
    assert errors == [
        f"{where}:1:1: add a list of phrases for 'unsafe'",
        f"{where}:2:5: 'sla*at': a * may only start or end a word",
        f"{where}:3:5: 'ge*': a word with * needs at least 3 letters, or it matches too "
        "many words",
        f"{where}:5:5: the phrase 'Geslagen!' is already in the list: remove one",
        f"{where}:6:8: write a list of phrases here",
        f"{where}:8:10: '12': a phrase needs words, not only numbers",
        f"{where}:10:1: unknown kind of danger 'danger': use one of violence, abuse, "
        "self_harm, threat, missing, unsafe",
    ]


def test_helpline_errors_have_file_line_and_column(content: Path) -> None:
    path = content / "safeguarding" / "helplines.yaml"
    path.write_text(
        "flanders:\n"
        "  heading: safeguarding.region_flanders\n"
        "  emergency: {number: 112, sources: [https://www.sos112.be/], checked: 2026-11-23}\n"
        "  lines:\n"
        "    - number: \"1712\"\n"
        "      text: safeguarding.line.flanders_1712\n"
        "      sources: [not a link]\n"
        "      checked: soon\n"
        "finland: {heading: safeguarding.region_finland}\n",
        encoding="utf-8")
    errors = loader_errors(load_helplines, content)
    where = str(path)
    assert errors == [
        f"{where}:3:23: write the number as text in quotes, digits and spaces only "
        "(\"09 2525 0111\")",
        f"{where}:7:16: sources must be a list of web addresses where the number was "
        "checked",
        f"{where}:8:16: checked must be the date the number was last checked (2026-11-23)",
        f"{where}:9:10: a region needs exactly heading (a text key), emergency and lines "
        "(a list)",
    ]


@pytest.fixture
def content_root(tmp_path: Path) -> ContentRoot:
    """A copy of the real locales, content and flows."""
    for folder in ("locales", "content", "flows"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    return ContentRoot.at(tmp_path)


def library_errors(root: ContentRoot) -> list[FlowError]:
    with pytest.raises(FlowErrors) as info:
        load_library(root)
    return info.value.errors


def test_the_library_checks_languages_regions_and_numbers_in_texts(
        content_root: ContentRoot) -> None:
    keywords = content_root.content / "safeguarding" / "keywords"
    (keywords / "so.yaml").unlink()
    shutil.copy(keywords / "nl.yaml", keywords / "xx.yaml")
    helplines = content_root.content / "safeguarding" / "helplines.yaml"
    text = helplines.read_text(encoding="utf-8")
    helplines.write_text(text[:text.index("\nfinland:")] + "\n", encoding="utf-8")
    english = content_root.locales / "en" / "safeguarding.yaml"
    english.write_text(english.read_text(encoding="utf-8").replace(
        '"{number}: Awel,', '"Awel,'), encoding="utf-8")
    messages = {error.message for error in library_errors(content_root)}
    assert "the region 'finland' has no help lines: add them" in messages
    assert "the shipped language 'so' has no danger word list: add so.yaml" in messages
    assert "'xx' is not a shipped language: rename or remove this list" in messages
    assert "'safeguarding.line.flanders_awel' must show the line's number: write {number} " \
           "in it" in messages
