"""The fast paths of normalized_text give exactly what the full path gives.

The reference is the same module with ``_FAST_PATHS`` off, which runs every step
unconditionally. The premises the fast paths rest on (see the comments in
transforms/normalize.py) are checked over every code point.
"""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms import normalize as N

ALL_CHARS = "".join(map(chr, range(0x110000)))
PRINTABLE = "".join(ch for ch in ALL_CHARS if ch.isprintable())
ASCII = ALL_CHARS[:128]


def full_path(text, html=None):
    N._FAST_PATHS = False
    try:
        return N.normalized_text(text, html=html)
    finally:
        N._FAST_PATHS = True


def assert_same(text, modes=(None, True, False)):
    for html in modes:
        assert N.normalized_text(text, html=html) == full_path(text, html), (text, html)


# ---------------------------------------------------------------------------------------
# Premises


def test_printable_text_has_nothing_for_the_character_steps():
    assert N._LINE_BREAKS.search(PRINTABLE) is None
    assert N._CONTROL.search(PRINTABLE) is None
    assert N._INVISIBLE_CANDIDATE.search(PRINTABLE) is None
    assert re.search(r"[^\S ]", PRINTABLE) is None  # no "\t", "\n", NBSP, ...: only " "
    assert "\t" not in PRINTABLE and "\n" not in PRINTABLE


def test_invisible_matches_only_candidates_and_no_ascii():
    assert N._INVISIBLE.search(N._INVISIBLE_CANDIDATE.sub("", ALL_CHARS)) is None
    assert N._INVISIBLE_CANDIDATE.search(ASCII) is None


def test_ascii_is_nfc():
    assert all(unicodedata.combining(ch) == 0 and not unicodedata.decomposition(ch) for ch in ASCII)
    pairs = [a + b for a in ASCII for b in ASCII]
    assert all(unicodedata.normalize("NFC", p) == p for p in pairs)


def test_fast_path_is_taken_for_printable_text(monkeypatch):
    calls = []
    real = N._cleaned_printable_line
    monkeypatch.setattr(N, "_cleaned_printable_line", lambda s: calls.append(s) or real(s))
    assert N.normalized_text("  Cafe\u0301  au lait ") == "Café au lait"
    assert calls == ["  Café  au lait "]
    N.normalized_text("two\nlines")
    assert len(calls) == 1


# ---------------------------------------------------------------------------------------
# Boundary inputs

HEADER_SIZES = [
    " " * lead + "On " + "x" * n + " wrote:" + " " * trail
    for lead in (0, 1, 3)
    for trail in (0, 1, 3)
    for n in (388, 389, 390, 391, 392)
]

BOUNDARY = [
    "",
    " ",
    "  ",
    "x",
    " x ",
    "a  b",
    "a   b ",
    ">",
    " > quoted",
    "x > y",
    "Thanks!",
    "Best regards, Maria",
    "Cheers,",
    "Sent from my iPhone",
    "  Sent from my iPhone  ",
    "sent FROM my Pixel 8",
    "Sent from my " + "x" * 61,
    "Sent from my " + "x" * 62,
    "Von meinem iPhone gesendet",
    "Get Outlook for iOS",
    "ſent from my iPhone",  # U+017F matches "s" case-insensitively
    "On Mon, Mar 14, 2026 at 10:00 AM Jane Doe <jane@example.com> wrote:",
    "on x wrote :  ",
    "On x wrote",
    "Am 14.03.2026 um 10:00 schrieb Support <support@example.com>:",
    "Le lun. 14 mars 2026 à 10:00, Jane a écrit :",
    "El lun, 14 mar 2026, Jane escribió:",
    "Op ma 14 mrt. 2026 schreef Jane:",
    "Il giorno lun Jane ha scritto:",
    "Em seg, Jane escreveu:",
    "Den 14 mars 2026 skrev Jane:",
    "-----Original Message-----",
    "  -----Ursprüngliche Nachricht-----  ",
    "_" * 9,
    "_" * 10,
    "##- Please type your reply above this line -##",
    "---------- Forwarded message ---------",
    "Begin forwarded message:",
    "From: Jane <jane@example.com>",
    "-- ",
    "--",
    "Dark mode please.\n-- \nJane",
    "Dark mode please.\n\nSent from my iPhone",
    "Dark mode please.\nKind regards\nJ. Smith\nCTO",
    "Works.\n\nOn Mon, Jane <\njane@example.com> wrote:\nold",
    "Works.\r\n\r\n\r\nok\r",
    "a\u2028b\u2029c\x85d\x0be\x0cf",
    "ascii\x0bvt\x0cff\rcr",
    "tab\there",
    "nbsp\xa0here\u3000and\u2003there",
    "zero\u200bwidth \u200dZWJ\u200d word\u200cjoin \u200c",
    "👨\u200d👩\u200d👧 ❤️",
    "\u202bשלום\u202c \u2066x\u2069 \u200e\u200f\u061c\u180e\u2060\ufeff\u00ad",
    "ctrl\x00\x07\x1b\x7f\x84\x86\x9f",
    "lone \ud800 surrogate \udfff",
    "e\u0301\u0327 \u212b \u2126 \u1100\u1161\u11a8 Å",
    "\u0344\u0f73\u2adc",  # NFC changes these (composition exclusions, decompositions)
    "<p>Hi</p><p>there &amp; you</p>",
    "<br>",
    "a<br>b",
    "I rate it < 3 stars, and 5 > 4",
    "<!doctype html><p>x</p>",
    "&nbsp;&amp;<b>x</b>",
    "```\n<div><p>hi</p></div>\n```",
    "The export fails again. " * 400,
    "word " * 20_000,
    *HEADER_SIZES,
]


@pytest.mark.parametrize("text", BOUNDARY)
def test_boundary_inputs_match_full_path(text):
    assert_same(text)


def test_non_str_and_none():
    for value in (None, 0, 3.5, b"bytes", ["x"]):
        assert N.normalized_text(value) == full_path(value)


# ---------------------------------------------------------------------------------------
# Random text

FRAGMENTS = [
    *(t for t in BOUNDARY if len(t) < 200),
    "\n",
    "\r\n",
    "\n\n\n",
    " ",
    "\t",
    "\xa0",
    "\u200d",
    "\u200c",
    "\u0301",
    "\ud800",
    "<p>",
    "</p>",
    "<li>",
    "&amp;",
    ":",
    "-",
    "_",
    "#",
    "ſ",
    "\u212a",
]

texts = st.one_of(
    st.text(),
    st.text(st.characters(blacklist_categories=("Cs",))),
    st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=5), max_size=12).map("".join),
    st.lists(
        st.sampled_from([f for f in FRAGMENTS if f.isprintable()])
        | st.text(st.characters(min_codepoint=32, max_codepoint=0x2FFF), max_size=6),
        max_size=10,
    ).map("".join),
)


@settings(max_examples=300, deadline=None)
@given(texts, st.sampled_from([None, True, False]))
def test_random_text_matches_full_path(text, html):
    assert N.normalized_text(text, html=html) == full_path(text, html)
