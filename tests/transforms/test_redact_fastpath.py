"""The fast paths of PII detection (``transforms.pii``) change nothing.

Each fast path is a cheap test that a detector (or one of its patterns) needs to pass before
it can find anything. Switched off, every detector must give the same spans: the texts below
sit at each prefilter's boundary (just enough to pass it, or just short of it), and random
mutations of them cover the rest.
"""

from __future__ import annotations

import random
import re

import pytest

from transforms import pii
from transforms.pii import addresses, names, numbers, web
from transforms.pii.spans import substring_finder
from transforms.redact import redacted

BOUNDARY = [
    # cards: 13 digits (shortest), 12, grouped, glued to a neighbour
    "Visa 4222222222222 ok",
    "only 422222222222 here",
    "Card 4111 1111 1111 1111 was charged",
    "Card 4111-1111-1111-1111 again",
    "card 4111111111111111 2",
    "Amex 3782 822463 10005 and 378282246310005",
    "I paid with 5555 5555 5555 4444.",
    # IBANs: compact, grouped, lower case, one digit short of the hint
    "IBAN DE89 3704 0044 0532 0130 00, thanks",
    "to NL91ABNA0417164300.",
    "iban gb82 west 1234 5698 7654 32 thanks",
    "FR76 3000 6000 0112 3456 7890 189",
    "code DE8 9370 and D89",
    # IP addresses, IPv6 without any digit, loopback
    "From 203.0.113.7 and 2001:db8::1",
    "255.255.255.255, 0.0.0.0 and 1.2.3 and v1.2.3.4",
    "abcd::ef is the host",
    "server ABCD::EF down",
    "host ::1 refused",
    "from fe80::1ff:fe23:4567:890a%eth0 and ::ffff:192.0.2.1",
    "MAC 00:1A:2B:3C:4D:5E, time 23:59:59",
    # phones: prefixes before the first digit, 6 and 7 digits, extensions
    "call +(415) 555-0132 now",
    "call 00(49) 30 1234567 now",
    "x+44 20 7946 0958",
    "Please call me on 0049 30 123456 today",
    "tel 1234567",
    "call +44\u00a020\u00a07946\u00a00958 now",
    "tel 123456",
    "555-0132 ext. 4",
    "415-555-0132 x123",
    "(415) 555-0132",
    "Order number 415 555 0132 never shipped",
    # e-mail: obfuscated and spelled-out forms, and their near misses
    "jane [at] example [dot] com",
    "jane(at)example.com",
    "jane (AT) example (DOT) com",
    "write to jane dot doe at example dot com",
    "JANE DOT DOE AT EXAMPLE DOT COM",
    "jane at example Dot com",
    "a.b+tag@mail.sub.example.co.uk wrote",
    'Invite "john doe"@example.com failed',
    # secrets
    "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.c2lnbmF0dXJlX3ZhbHVl rejected",
    "bearer abcdefghijklmnopqrstuvwxyz0123",
    "key sk_live_4eC39HqLyjWDarjtT1zdp7dc leaked",
    "token ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    "pat github_pat_abcdefghijklmnopqrstuvwxyz0123",
    "slack xoxb-1234567890-abcdefghij",
    "aws AKIAIOSFODNN7EXAMPLE and AIzaSyA-abcdefghijklmnopqrstuvwxyz12345",
    "Open https://app.example.com/reset?token=Zx81kPq and https://example.com/docs?page=2",
    "see WWW.EXAMPLE.COM/invite/8f3k2j4h5g6f7d8s9a0q1w2e now",
    # addresses: each street word and form
    "Ship to 123 Main Street, Springfield, IL 62704.",
    "12 Main St. and 1600 Pennsylvania Avenue NW, Washington, DC 20500",
    "2 Google Drive mounts",
    "Lieferung an Hauptstraße 5, 10115 Berlin",
    "Berliner Str. 12a, Hauptstr. 5, Haupt Str. 7",
    "Keizersgracht 123, Kerkstraat 1, Hofdijk 12, Oudesingel 5, Heiligeweg 3",
    "Rembrandtplein 4, Westerkade 12, Bergsteig 1, Lindensteeg 2, Bergpfad 7",
    "Marktplatz 1, Schillerufer 8, Mühlendamm 4, Rosenallee 9, Alte Chaussee 2",
    "Lange Laan 9 and Breite Gasse 3 and Am Damm 4",
    "12 rue de la Paix",
    "Office: 8 Rue de Rivoli, 75004 Paris",
    "12 bis rue Lepic and 3 ter, avenue Foch and 5 av. Foch and 10 BD Haussmann",
    "7 ſquare Louis and 12 Allée des Roses",
    "Calle Mayor 5, Via Roma 10, Piazza Navona 2, 00186 Roma",
    "Rua Augusta 100, C/ Mayor 5, Avda. de la Constitución 3, Av. Paulista 1000",
    "Unter den Linden 77, 10117 Berlin",
    "Damrak 1\n1012 LG Amsterdam",
    "Damrak 1a, 1012LG Amsterdam",
    "Postcode SW1A 1AA is refused",
    "Postcode EC1A1BB and zip W1A0AX",
    "M2 2TB SSD and PS4 4GB",
    "Ottawa, ON K1A 0B1 and Sydney NSW 2000 and Sydney, NSW 2000",
    # names: each start, each keyword form, case variants the regex engine folds
    "Hi Anna, mail me",
    "hi jane, the export is broken",
    "Note: Thanks Maria for this",
    "Note: Hello Bob, again",
    "ok.\tHello Bob, ok",
    "Great app!\nBest regards,\nJohn Smith",
    "Thanks,\nMaria",
    "  Kind regards, Anna",
    "\u212aind regards,\nJohn",
    "ſalut Élodie, ça va",
    "Hİ Anna, hı Bob,",
    "Mit freundlichen Grüßen\nDr. Klaus Weber",
    "Saludos cordiales,\nMaría de la Cruz",
    "Cheers - Tom",
    "Great app!\n— Priya",
    "Great app - Priya  ",
    "Great app – Priya\t",
    "Great app\n— Chris’",
    "Great app - Anders'",
    "Thanks\n— A" + "b" * 105,
    "- item one\n- Priya",
    "x" * 130 + " — Priya",
    "Thanks Zendesk for nothing",
    "thanks bro, and Merci Sophie! Danke schön, Anna.",
    "my name is John Smith and ich heiße Jürgen.",
    "Done.\n-- \nRahul Verma\nAnalyst",
    "From: Jane Roe <jane.roe@example.com>",
    "Hi Ngozi and Kwame, quick question",
    "привет Иван, как дела",
    "С уважением,\nИван Петров",
    "Good morning Mr. Smith. Have a nice day, Anna",
    "warm regards\nAnna",
    "Grazie mille, Luca. Obrigada, Ana.",
    "Best,\nAcme Customer Success",
    "Dear Valued Customer, your plan renews",
    "end: \nThanks, Anna",
    "x.\nThanks, Anna",
    "Thanks.\nAnna",
    "",
    " ",
    "\n",
]


def _words(alternation: str) -> list[str]:
    """The words of a flat ``(?:a|b\\.|...)`` (escapes dropped)."""
    return [w.replace("\\", "") for w in alternation[3:-1].split("|")]


# One text per street word, so that a word missing from a prefilter shows.
BOUNDARY += [f"Ship to 12 Main {w}" for w in _words(addresses._EN_TYPE)]
BOUNDARY += [f"Vivo en {w} Mayor 5" for w in _words(addresses._ES_TYPE)]
_FR_WORDS = re.search(r"\(\?i:([^)]*)\)", addresses._FR_HEAD)[1]
BOUNDARY += [f"au 12 {w} Foch" for w in _words(f"(?:{_FR_WORDS})")]
BOUNDARY += [f"an Haupt{w} 5" for w in _words(addresses._DE_SUFFIX)]
BOUNDARY += [f"an Alte {w} 5" for w in _words(addresses._DE_TYPE)]

_SPECIAL = ["ſ", "\u212a", "İ", "ı", "\u00a0", "３", "\n", "\t", "—", "-", ". ", ": ", "@", "<",
            "(", "[", "_", "0", "4", "+", ", ", "  "]  # fmt: skip


def _mutated(rnd: random.Random, text: str) -> str:
    chars = list(text)
    for _ in range(rnd.randint(1, 4)):
        pos = rnd.randint(0, len(chars))
        op = rnd.random()
        if op < 0.35:
            chars[pos:pos] = rnd.choice(_SPECIAL)
        elif op < 0.55:
            chars[pos:pos] = rnd.choice(BOUNDARY)[: rnd.randint(0, 40)]
        elif op < 0.7 and chars:
            i = rnd.randrange(len(chars))
            chars[i] = chars[i].swapcase()
        elif op < 0.85:
            del chars[pos : pos + rnd.randint(1, 4)]
        else:
            chars = chars[:pos]
    return "".join(chars)


_MUTATED = [_mutated(random.Random(seed), BOUNDARY[seed % len(BOUNDARY)]) for seed in range(1500)]


class _Found:
    def start(self) -> int:
        return 0


class _Always:
    """Stands in for a prefilter pattern: always "found" (at 0), so it filters nothing."""

    def search(self, text: str, *args: object) -> _Found:
        return _Found()


class _AnyOf:
    """Stands in for a ``substring_finder`` pattern: the plain ``any(w in s ...)``."""

    def __init__(self, words: tuple[str, ...]) -> None:
        self.words = words

    def search(self, text: str) -> _Found | None:
        return _Found() if any(w in text for w in self.words) else None


def _all_starts(text: str) -> list[tuple[int, bool]]:
    """Every start of ``_STARTS``, as ``names._matches`` tried them before ``_starts``."""
    return [(0, False)] + [(m.end(), text[m.start()] == ":") for m in names._STARTS.finditer(text)]


def _switch_off_fast_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pii, "_WITHOUT_DIGIT", pii._DETECTORS)
    for name in ("_CARD_HINT", "_IBAN_HINT", "_IPV4_HINT", "_PHONE_HINT"):
        monkeypatch.setattr(numbers, name, _Always())
    for name in ("_EN_TYPE_WORD", "_ES_TYPE_WORD", "_DE_BEFORE_NUMBER", "_FR_HEAD_AFTER_DIGIT",
                 "_UK_HINT", "_CITY_STATE_ZIP_HINT", "_AFTER_SOME_DIGIT"):  # fmt: skip
        monkeypatch.setattr(addresses, name, _Always())
    monkeypatch.setattr(addresses, "_FR_HINT", _AnyOf(addresses._FR_HINTS))
    monkeypatch.setattr(addresses, "_DE_HINT", _AnyOf(addresses._DE_HINTS))
    monkeypatch.setattr(addresses, "_ES_HINT", _AnyOf(addresses._ES_HINTS))
    monkeypatch.setattr(names, "_starts", _all_starts)
    monkeypatch.setattr(names, "_dash_name_possible", lambda text: True)
    monkeypatch.setattr(names, "_ANY_HINT", _AnyOf(names._THANKS_HINTS + names._INTRODUCTION_HINTS))
    monkeypatch.setattr(web, "_bare_secret_possible", lambda text: True)


def _results(texts: list[str]) -> list[tuple]:
    out = []
    for text in texts:
        per_detector = tuple(tuple(detector(text)) for detector in pii._DETECTORS)
        out.append((per_detector, tuple(pii.pii_spans(text)), redacted(text)))
    return out


@pytest.mark.parametrize("texts", [BOUNDARY, _MUTATED], ids=["boundary", "mutated"])
def test_switching_fast_paths_off_changes_nothing(monkeypatch, texts):
    fast = _results(texts)
    _switch_off_fast_paths(monkeypatch)
    slow = _results(texts)
    for text, a, b in zip(texts, fast, slow, strict=True):
        assert a == b, text


def test_boundary_texts_reach_every_detector():
    """Not vacuous: the boundary texts find every kind, and every name pattern."""
    kinds = {span.kind for text in BOUNDARY for span in pii.pii_spans(text)}
    assert kinds == set(pii.KINDS)
    patterns = {p.pattern for text in BOUNDARY for p, _ in names._matches(text)}
    wanted = (names._GREETING, names._SIGN_OFF, names._THANKS_NAME, names._DASH_NAME,
              names._INTRODUCTION, names._SIGNATURE, names._DISPLAY_NAME)  # fmt: skip
    assert {p.pattern for p in wanted} <= patterns


def test_starts_are_the_starts_where_a_keyword_begins():
    for text in BOUNDARY + _MUTATED:
        opening = [
            (pos, colon)
            for pos, colon in _all_starts(text)
            if names._GREETING.match(text, pos) or names._SIGN_OFF.match(text, pos)
        ]
        starts = names._starts(text)
        assert set(opening) <= set(starts), text
        assert starts == sorted(set(starts)) and set(starts) <= set(_all_starts(text)), text


def test_inline_email_prefilters_are_necessary():
    found = {"obfuscated": 0, "spelled": 0}
    for text in BOUNDARY + _MUTATED:
        if web._EMAIL_OBFUSCATED.search(text) or web._OBFUSCATED_AT.search(text):
            found["obfuscated"] += 1
            assert "(" in text or "[" in text, text
        if web._EMAIL_SPELLED.search(text):
            found["spelled"] += 1
            assert "dot" in text or "DOT" in text, text
    assert all(found.values()), found


def test_opener_keywords_are_the_same_language():
    """``_by_first_letter`` regroups the greeting and sign-off keywords without changing
    what they match; ``_branches`` splits an alternation losslessly."""
    for words in (names._GREETING_WORDS, names._SIGN_OFF_WORDS):
        assert "(?:" + "|".join(names._branches(words)) + ")" == words
    plain = re.compile(rf"(?i)[ \t]*(?:{names._GREETING_WORDS}|{names._SIGN_OFF_WORDS})")
    grouped = re.compile("(?i)" + names._OPENER_WORDS)
    rnd = random.Random(3)
    samples = []
    for branch in names._branches(names._GREETING_WORDS) + names._branches(names._SIGN_OFF_WORDS):
        for _ in range(3):  # a string of each alternative: choose in groups and classes
            s = re.sub(
                r"\(\?:([^()]*)\)\?", lambda m: rnd.choice([*m.group(1).split("|"), ""]), branch
            )
            s = re.sub(r"\(\?:([^()]*)\)", lambda m: rnd.choice(m.group(1).split("|")), s)
            s = re.sub(r"\[([^\]]*)\]\??", lambda m: rnd.choice(m.group(1).replace("\\t", "\t")), s)
            samples += [s.replace("s?", ""), s.upper(), s[:-1], s[1:], " " + s, s + "x"]
    matched = 0
    for s in samples:
        a, b = plain.fullmatch(s), grouped.fullmatch(s)
        assert (a is None) == (b is None), s
        matched += a is not None
    assert matched > len(samples) // 3


def test_substring_finder_is_any_substring():
    words = names._THANKS_HINTS + names._INTRODUCTION_HINTS + addresses._DE_HINTS
    finder = substring_finder(words)
    rnd = random.Random(5)
    # pieces of words (whole, or missing a letter at either end) and single letters
    pieces = [w[i:j] for w in words for i in (0, 1) for j in (len(w) - 1, len(w))]
    pieces += sorted(set("".join(words))) + [" ", "X"]
    texts = ["".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 6))) for _ in range(3000)]
    texts += [w[:-1] for w in words] + [w[1:] for w in words] + list(words)
    hits = 0
    for text in texts:
        expected = any(w in text for w in words)
        assert (finder.search(text) is not None) == expected, text
        hits += expected
    assert 500 < hits < 2500


def test_german_street_words_reach_the_number_prefilter():
    words = (addresses._DE_SUFFIX[3:-1] + "|" + addresses._DE_TYPE[3:-1]).split("|")
    for word in words:
        assert addresses._DE_BEFORE_NUMBER.search(word.replace("\\", "") + " 5"), word
