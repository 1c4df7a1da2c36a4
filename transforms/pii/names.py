"""Street addresses and person names.

Names are only looked for where feedback reliably carries them: after a greeting ("Hi Anna,"),
in a sign-off ("Thanks, Maria", "Best regards,\\nJohn Smith", "— Priya" at the end) and after
"my name is". A stop list keeps "Hi team", "Hello there", "Thanks again".
"""

from __future__ import annotations

import re

from transforms.pii.spans import PiiSpan, has_digit

# ---------------------------------------------------------------------------------------
# Addresses

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
_FR_ADDRESS = (
    rf"\b\d{{1,4}}(?:\s?(?:bis|ter))?,?\s(?:rue|avenue|av\.|boulevard|bd|place|chemin|allée|"
    rf"impasse|quai|route|cours|square)\s{_ROMANCE_NAME}(?:,?\s\d{{5}}\s{_CAP})?"
)
_ES_ADDRESS = (
    rf"\b(?:Calle|C/|Avenida|Avda\.|Av\.|Plaza|Paseo|Carrera|Camino|Ronda|Rua|Travessa|"
    rf"Via|Viale|Piazza|Corso|Largo|Vicolo)\s?{_ROMANCE_NAME},?\s(?:n[º°o.]\s?)?\d{{1,4}}\b"
    rf"(?:,?\s\d{{4,5}}(?:-\d{{3}})?\s{_CAP})?"
)
# Any street line followed by a postcode and city: "Unter den Linden 77, 10117 Berlin",
# "Damrak 1\n1012 LG Amsterdam"
_POSTAL_ADDRESS = (
    rf"\b[{_UP}][\w'’-]+(?:\s(?:[{_UP}][\w'’-]+|den|der|dem|des|von|van|"
    rf"de|la|del|di)){{0,3}}\s\d{{1,4}}[a-zA-Z]?(?:,\s?|\s?\n\s?)(?:\d{{5}}|\d{{4}}\s?[A-Z]{{2}})"
    rf"\s[{_UP}][\w-]+"
)
_ADDRESS = re.compile(f"{_EN_ADDRESS}|{_DE_ADDRESS}|{_FR_ADDRESS}|{_ES_ADDRESS}|{_POSTAL_ADDRESS}")
_CITY_STATE_ZIP = re.compile(rf"\b{_CITY},\s{_US_STATE}\s\d{{5}}(?:-\d{{4}})?\b")
_NOT_STREET = frozenset(
    "google hard usb flash cloud solid external network shared test one my the a an".split()
)


def address_spans(text: str) -> list[PiiSpan]:
    """Street addresses (house number + street name + street type, in English, German,
    Dutch, French, Spanish, Italian, Portuguese forms), with unit and city/postcode when
    they follow; and "City, ST 12345" lines."""
    if not has_digit(text):
        return []
    spans: list[PiiSpan] = []
    for m in _ADDRESS.finditer(text):
        words = m.group().lower().split()
        if words[0][0].isdigit() and len(words) > 1 and words[1] in _NOT_STREET:
            continue
        spans.append(PiiSpan(m.start(), m.end(), "address"))
    for m in _CITY_STATE_ZIP.finditer(text):
        spans.append(PiiSpan(m.start(), m.end(), "address"))
    return spans


# ---------------------------------------------------------------------------------------
# Names

_WORD = r"[^\W\d_][\w'’-]*"
_NAME_WORDS = rf"(?P<name>(?:[{_UP}]\.[ \t]?)?{_WORD}(?:[ \t]+(?:[{_UP}]\.[ \t]?)?{_WORD}){{0,2}})"
_TITLE = (
    r"(?:(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Herr|Frau|Mme|Mlle|Sr|Sra|Srta|Dhr|Mevr|Sig|Sig\.ra|"
    r"Signora|Signor|Señor|Señora|Monsieur|Madame|M)\.?[ \t]+)"
)
_GREETING = re.compile(
    r"(?im)(?:^|(?<=[.!?:])[ \t])[ \t]*"
    r"(?:hi|hello|hey|heya|hiya|dear|greetings|good (?:morning|afternoon|evening)|morning|"
    r"hallo|moin|servus|grüezi|guten (?:morgen|tag|abend)|liebe[rsn]?|sehr geehrte[rsn]?|"
    r"hola|buenos días|buenas tardes|buenas|estimad[oa]s?|querid[oa]|"
    r"bonjour|bonsoir|salut|coucou|cher|chère|"
    r"ciao|salve|buongiorno|gentile|car[oa]|"
    r"olá|ola|oi|prezad[oa]|bom dia|boa tarde|"
    r"hoi|hee|beste|geachte|goedemorgen|goedemiddag|"
    r"hej|hei|moi|cześć|dzień dobry|ahoj|привет|здравствуйте|добрый день)"
    rf"[ \t]*,?[ \t]+{_TITLE}?{_NAME_WORDS}"
)
_SIGN_OFF = re.compile(
    r"(?im)(?:^|(?<=[.!?])[ \t])[ \t]*"
    r"(?:(?:best|kind|warm|warmest|many|with)?[ \t]?regards|best wishes|best|all the best|"
    r"thanks(?: a lot| again| in advance| so much)?|thank you(?: very much| so much| in advance)?|"
    r"many thanks|thx|ty|cheers|sincerely|yours(?: truly| sincerely)?|respectfully|br|talk soon|"
    r"mit freundlichen gr(?:ü|ue|u)(?:ß|ss)en|freundliche grüße|viele grüße|liebe grüße|"
    r"beste grüße|schöne grüße|lg|vg|mfg|gruß|grüße|danke(?: schön)?|vielen dank|"
    r"cordialement|bien cordialement|bien à vous|merci(?: beaucoup)?|salutations|bises|"
    r"saludos(?: cordiales)?|un saludo|atentamente|gracias|un abrazo|"
    r"met vriendelijke groet(?:en)?|vriendelijke groet(?:en)?|groeten|groetjes|bedankt|"
    r"cordiali saluti|saluti|grazie|distinti saluti|atenciosamente|abraços|obrigad[oa]|"
    r"pozdrawiam|с уважением|спасибо)"
    rf"[ \t]*[,!.:;-]*[ \t]*(?:\n[ \t]*){{0,2}}{_TITLE}?{_NAME_WORDS}[ \t]*[.!]?"
    r"(?:[ \t]*(?:\(|\||,[ \t]|[–—-][ \t])[^\n]{0,60})?[ \t]*$"
)
_THANKS_NAME = re.compile(
    r"(?i)\b(?:thanks|thank you|thx|merci|danke|gracias|grazie|bedankt|obrigad[oa])"
    r"(?: so much| very much| a lot| mille| beaucoup| schön| sehr| muito| wel)?"
    rf"[ \t]*,?[ \t]+{_TITLE}?{_NAME_WORDS}"
    r"(?=[ \t]*(?:[,!.:;)]|$|for\b|für\b|pour\b|por\b|per\b|voor\b))"
)
_DASH_NAME = re.compile(rf"(?:^|(?<=\s))[—–-]{{1,2}}[ \t]?{_NAME_WORDS}[ \t]*\Z")
_INTRODUCTION = re.compile(
    r"(?i)\b(?:my name is|my name's|mein name ist|ich heiße|je m'appelle|me llamo|"
    r"mi nombre es|mijn naam is|ik heet|mi chiamo|meu nome é|o meu nome é)"
    rf"[ \t]+{_NAME_WORDS}"
)
_STOP = frozenset(
    """team teams all everyone everybody anyone someone there folks guys gals people y'all
    support helpdesk service services customer customers client clients user users sir sirs
    madam madame mesdames messieurs monsieur colleague colleagues friend friends world admin
    admins staff dev devs developer developers engineer engineers crew community sales billing
    again so you very much lot in advance the a an this that it we us for and or but sorry
    please ok okay yes no ladies gentlemen gents mate mates buddy pal bot agent agents
    manager managers product app apps god good great best kind regards all both i me my our
    your morning afternoon evening night day tag abend damen herren leute allemaal iedereen
    team's tutti todos todas equipe équipe equipo kundenservice kundendienst servicio
    soporte atención ekipa команда коллеги друзья all, zusammen ensemble vous à a la el los
    las le les de der die das het een ihr ihnen sie du tu vous usted ustedes
    monday tuesday wednesday thursday friday saturday sunday january february march april
    may june july august september october november december
    hi hello hey dear thanks thank cheers regards grüße grüsse gruß grüßen groeten saludos
    saluti mr mrs ms miss mx dr prof herr frau mme mlle sr sra srta dhr mevr sig signor
    signora señor señora""".split()
)
_GROUP_AFTER = re.compile(r"[ \t]+(?:team|support|folks|crew|people|guys|all|squad|devs)\b", re.I)


def _name_span(text: str, m: re.Match[str]) -> PiiSpan | None:
    """The longest run of capitalised, non-stop-list words at the start of the match."""
    start = m.start("name")
    end = start
    for w in re.finditer(r"\S+", m.group("name")):
        word = w.group()
        bare = word.rstrip(".")
        if not word[0].isupper() or bare.lower() in _STOP:
            break
        if len(bare) > 1 and bare.isupper() and not (len(bare) == 2 and bare[1] == "."):
            break  # "Hi QA", "Thanks IT": acronyms are teams, not people
        end = start + w.end()
    if end == start:
        return None
    if _GROUP_AFTER.match(text, end):
        return None
    return PiiSpan(start, end, "name")


def _in_list(text: str, start: int) -> bool:
    """Whether a "- Word" line closes a bulleted list rather than signing a message."""
    if text[start : start + 1] != "-":
        return False
    previous = text[:start].rstrip().rsplit("\n", 1)[-1].lstrip()
    return previous[:1] in ("-", "*", "•")


def name_spans(text: str) -> list[PiiSpan]:
    """Person names after greetings, in sign-offs, after "thanks" and "my name is"."""
    spans: list[PiiSpan] = []
    for pattern in (_GREETING, _SIGN_OFF, _THANKS_NAME, _DASH_NAME, _INTRODUCTION):
        for m in pattern.finditer(text):
            span = _name_span(text, m)
            if span is not None and not (pattern is _DASH_NAME and _in_list(text, m.start())):
                spans.append(span)
    return spans
