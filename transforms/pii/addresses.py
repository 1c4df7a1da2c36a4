"""Postal addresses: street lines with a house number (English, German/Dutch, French,
Spanish/Italian/Portuguese forms) with their unit, city and postcode when they follow; US
"City, ST 12345" lines; UK postcodes on their own.
"""

from __future__ import annotations

import re

from transforms.pii.spans import PiiSpan, before, has_digit, substring_finder

_UP = r"A-ZÀ-ÖØ-Þ"
_CAP = rf"[{_UP}][\w'’-]*"
_EN_TYPE = (
    r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Place|Pl|"
    r"Square|Sq|Terrace|Ter|Way|Parkway|Pkwy|Highway|Hwy|Circle|Cir|Close|Crescent|Cres|"
    r"Row|Alley|Trail|Trl|Grove|Gardens|Mews|Hill|Walk|Broadway)"
)
_UNIT = r"(?:,?\s(?:Apt|Apartment|Suite|Ste|Unit|Flat|Floor|Fl|Room|#)\.?\s?#?[\w-]{1,6})"
_US_STATE = (
    r"(?:AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|"
    r"NV|NH|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|PR)"
)
_UK_POSTCODE = r"(?:[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2})"
_CITY = r"(?:[A-Z][a-zA-Z'.-]+(?:\s[A-Z][a-zA-Z'.-]+){0,2})"
_CITY_LINE = (
    rf"(?:,\s?{_CITY},?\s(?:{_US_STATE}\s\d{{5}}(?:-\d{{4}})?|{_UK_POSTCODE})"
    rf"|,\s?{_UK_POSTCODE}|,\s?{_US_STATE}\s\d{{5}}(?:-\d{{4}})?)"
)
_EN_ADDRESS = (
    rf"\b\d{{1,5}}[A-Za-z]?(?:-\d{{1,5}})?,?\s(?:[NSEW]\.?\s|(?:North|South|East|West)\s)?"
    rf"(?:(?:{_CAP}|\d{{1,3}}(?:st|nd|rd|th))\s){{1,3}}{_EN_TYPE}\b\.?"
    rf"(?:\s(?:NW|NE|SW|SE|N|S|E|W)\b)?{_UNIT}?{_CITY_LINE}?"
)
# German, Dutch, Austrian, Swiss: "Hauptstraße 5", "Berliner Str. 12a", "Keizersgracht 123"
_DE_SUFFIX = (
    r"(?:straße|strasse|str\.|weg|allee|platz|gasse|damm|ufer|chaussee|steig|pfad|"
    r"straat|laan|gracht|plein|kade|singel|dijk|steeg)"
)
_DE_TYPE = r"(?:Straße|Strasse|Str\.|Weg|Allee|Platz|Gasse|Damm|Ufer|Chaussee)"
_DE_ADDRESS = (
    rf"(?:\b[{_UP}][\w-]*{_DE_SUFFIX}|\b(?:[{_UP}][\w-]*\s){{1,2}}{_DE_TYPE})"
    rf"\s\d{{1,4}}(?:\s?[a-zA-Z]\b)?(?:-\d{{1,4}})?(?:(?:,\s?|\s?\n\s?|\s)\d{{4,5}}\s[{_UP}][\w-]+)?"
)
# French, Spanish, Italian, Portuguese: "12 rue de la Paix", "Calle Mayor 5", "Via Roma 10"
_PARTICLES = r"(?:de|du|des|la|le|les|l'|d'|del|las|los|di|della|dei|do|da|dos|das|y|e)"
_ROMANCE_NAME = rf"(?:{_PARTICLES}\s?)*{_CAP}(?:\s(?:{_PARTICLES}\s?)*{_CAP}){{0,3}}"
# what follows the house number
_FR_HEAD = (
    r"(?:\s?(?:bis|ter))?,?\s(?i:rue|avenue|av\.|boulevard|bd|place|chemin|allée|"
    r"impasse|quai|route|cours|square)\s"
)
_FR_ADDRESS = rf"\b\d{{1,4}}{_FR_HEAD}{_ROMANCE_NAME}(?:,?\s\d{{5}}\s{_CAP})?"
_ES_TYPE = (
    r"(?:Calle|C/|Avenida|Avda\.|Av\.|Plaza|Paseo|Carrera|Camino|Ronda|Rua|Travessa|"
    r"Via|Viale|Piazza|Corso|Largo|Vicolo)"
)
_ES_ADDRESS = (
    rf"\b{_ES_TYPE}\s?{_ROMANCE_NAME},?\s(?:n[º°o.]\s?)?\d{{1,4}}\b"
    rf"(?:,?\s\d{{4,5}}(?:-\d{{3}})?\s{_CAP})?"
)
# Any street line followed by a postcode and city: "Unter den Linden 77, 10117 Berlin",
# "Damrak 1\n1012 LG Amsterdam"
_POSTAL_ADDRESS = (
    rf"\b[{_UP}][\w'’-]+(?:\s(?:[{_UP}][\w'’-]+|den|der|dem|des|von|van|"
    rf"de|la|del|di)){{0,3}}\s\d{{1,4}}[a-zA-Z]?(?:,\s?|\s?\n\s?)(?:\d{{5}}|\d{{4}}\s?[A-Z]{{2}})"
    rf"\s[{_UP}][\w-]+"
)
# Each form runs only where it can match (a cheap substring or digit test first): scanning
# every character with every pattern would cost more than all other detectors together.
_EN_AT = re.compile(_EN_ADDRESS)  # matched at each number
_FR_AT = re.compile(_FR_ADDRESS)
_DE = re.compile(_DE_ADDRESS)
_ES = re.compile(_ES_ADDRESS)
_POSTAL = re.compile(_POSTAL_ADDRESS)
_DIGITS = re.compile(r"\d+")
_POSTAL_HINT_AFTER_DIGIT = r"[a-zA-Z]?(?:,[ \t]?|[ \t]?\n[ \t]?)\d{4}"
_POSTAL_HINT = re.compile(r"\d" + _POSTAL_HINT_AFTER_DIGIT)
_DE_HINTS = (
    "stra",
    "str.",
    "weg",
    "allee",
    "platz",
    "gasse",
    "damm",
    "ufer",
    "chaussee",
    "steig",
    "pfad",
    "laan",
    "gracht",
    "plein",
    "kade",
    "singel",
    "dijk",
    "steeg",
)
_FR_HINTS = (
    "rue",
    "av",
    "bd",
    "boulevard",
    "place",
    "chemin",
    "allée",
    "impasse",
    "quai",
    "route",
    "cours",
    "square",
)
_ES_HINTS = ("calle", "c/", "av", "plaza", "paseo", "carrera", "camino", "ronda", "rua",
             "travessa", "via", "piazza", "corso", "largo", "vicolo")  # fmt: skip
# A UK postcode on its own ("SW1A 1AA"); not "M2 2TB" or "PS4 4GB" (storage sizes).
_UK_POSTCODE_ALONE = re.compile(
    r"(?<![\w-])[A-PR-UWYZ][A-HK-Y]?\d[A-HJKPS-UW\d]? ?\d(?!GB|TB|PB)[ABD-HJLNP-UW-Z]{2}(?![\w-])"
)
_POSTCODE_WORD = re.compile(r"post ?code|postal code|zip", re.I)
# "2 Main Drive mounts" is storage, not a street
_NOT_ADDRESS_AFTER = re.compile(
    r"\s(?:accounts?|folders?|files?|mounts?|links?|storage|sync|api|integration|drives?)\b",
    re.I,
)
# "Springfield, IL 62704", "Ottawa, ON K1A 0B1", "Sydney NSW 2000"
_CA_PROVINCE = r"(?:AB|BC|MB|NB|NL|NS|NT|NU|ON|PE|QC|SK|YT)"
_AU_STATE = r"(?:NSW|VIC|QLD|WA|SA|TAS|ACT|NT)"
_CITY_STATE_ZIP = re.compile(
    rf"\b{_CITY}(?:,\s{_US_STATE}\s\d{{5}}(?:-\d{{4}})?"
    rf"|,\s{_CA_PROVINCE}\s[A-Z]\d[A-Z]\s?\d[A-Z]\d|,?\s{_AU_STATE}\s\d{{4}})\b"
)
# Fast-path gates, each a necessary condition read off the pattern it guards (searched for
# first, the guarded pattern runs only where they are found):
# ``_EN_ADDRESS`` requires ``{_EN_TYPE}\b`` verbatim (case-sensitive, not optional).
_EN_TYPE_WORD = re.compile(_EN_TYPE + r"\b")
# ``_ES_ADDRESS`` requires one of its street words verbatim (case-sensitive, not optional).
_ES_TYPE_WORD = re.compile(_ES_TYPE)
# ``_DE_ADDRESS``: a word ending in ``_DE_SUFFIX`` or ``_DE_TYPE``, then ``\s\d``; so the
# last character of one of those words, a space and a digit (looked for digit first).
_DE_LAST = "".join(sorted({w[-1] for w in (_DE_SUFFIX[3:-1] + "|" + _DE_TYPE[3:-1]).split("|")}))
_DE_BEFORE_NUMBER = re.compile(rf"\s\d(?<=[{re.escape(_DE_LAST)}]\s\d)")
# ``_FR_ADDRESS`` is ``\d{1,4}`` then ``_FR_HEAD``: its last digit and ``_FR_HEAD`` match.
_FR_AFTER_DIGIT = r"\d" + _FR_HEAD
# ``_UK_POSTCODE_ALONE`` ends with a digit and two letters of [ABD-HJLNP-UW-Z] (⊂ [A-Z]).
_UK_AFTER_DIGIT = r"\d[A-Z]{2}"
# One scan for the three gates that start at a digit (fr, uk, and ``_POSTAL_HINT`` itself):
# it finds nothing only if none of them would.
_AFTER_SOME_DIGIT = re.compile(
    rf"\d(?:{_FR_HEAD}|{_POSTAL_HINT_AFTER_DIGIT}|{_UK_AFTER_DIGIT[2:]})"
)
_FR_HEAD_AFTER_DIGIT = re.compile(_FR_AFTER_DIGIT)
_UK_HINT = re.compile(_UK_AFTER_DIGIT)
# "Some hint of the list is a substring of the lower-cased text", as one scan per list.
_FR_HINT = substring_finder(_FR_HINTS)
_DE_HINT = substring_finder(_DE_HINTS)
_ES_HINT = substring_finder(_ES_HINTS)
# ``_CITY_STATE_ZIP``: a US state, Canadian province or Australian state (all upper-case
# ASCII) then ``\s`` then 5 digits (US), 4 digits (AU) or "[A-Z]\d[A-Z]" (CA).
_CITY_STATE_ZIP_HINT = re.compile(r"[A-Z]\s(?:\d{4}|[A-Z]\d[A-Z])")
_NOT_STREET = frozenset(
    "google hard usb flash cloud solid external network shared test one my the a an".split()
)


def _street_matches(text: str, after_digit: bool = True) -> list[re.Match[str]]:
    """``after_digit``: False only if ``_AFTER_SOME_DIGIT`` finds nothing in ``text``."""
    low = text.lower()
    # fr as before (a hint in the lower-cased text), computed only where _FR_AT can match
    fr = (
        after_digit
        and _FR_HEAD_AFTER_DIGIT.search(text) is not None
        and _FR_HINT.search(low) is not None
    )
    en = _EN_TYPE_WORD.search(text) is not None  # else _EN_AT.match is None everywhere
    found: list[re.Match[str]] = []
    if en or fr:
        for d in _DIGITS.finditer(text):
            i = d.start()
            if i and (text[i - 1].isalnum() or text[i - 1] == "_"):
                continue
            if (
                en
                and (m := _EN_AT.match(text, i)) is not None
                or fr
                and (m := _FR_AT.match(text, i))
            ):
                found.append(m)
    if _DE_BEFORE_NUMBER.search(text) and _DE_HINT.search(low):
        found += _DE.finditer(text)
    if _ES_TYPE_WORD.search(text) and _ES_HINT.search(low):
        found += _ES.finditer(text)
    if after_digit and _POSTAL_HINT.search(text):
        found += _POSTAL.finditer(text)
    return found


def address_spans(text: str) -> list[PiiSpan]:
    """Street addresses (house number + street name + street type, in English, German,
    Dutch, French, Spanish, Italian, Portuguese forms), with unit and city/postcode when
    they follow; "City, ST 12345" lines; UK postcodes. Overlaps: the earliest, then the
    longest, wins."""
    if not has_digit(text):
        return []
    spans: list[PiiSpan] = []
    after_digit = _AFTER_SOME_DIGIT.search(text) is not None
    for m in _street_matches(text, after_digit):
        words = m.group().lower().split()
        if words[0][0].isdigit() and len(words) > 1 and words[1] in _NOT_STREET:
            continue
        if words[-1] == "drive" and _NOT_ADDRESS_AFTER.match(text, m.end()):
            continue
        spans.append(PiiSpan(m.start(), m.end(), "address"))
    if after_digit and _UK_HINT.search(text):
        for m in _UK_POSTCODE_ALONE.finditer(text):
            if " " in m.group() or _POSTCODE_WORD.search(before(text, m.start(), 20)):
                spans.append(PiiSpan(m.start(), m.end(), "address"))
    if _CITY_STATE_ZIP_HINT.search(text):
        for m in _CITY_STATE_ZIP.finditer(text):
            spans.append(PiiSpan(m.start(), m.end(), "address"))
    kept: list[PiiSpan] = []
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if not kept or span.start >= kept[-1].end:
            kept.append(span)
    return kept
