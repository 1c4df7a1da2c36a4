"""Person names.

Names are only looked for where feedback reliably carries them: after a greeting ("Hi Anna,",
"Hallo Frau Schneider", "Bonjour Élodie"), in a sign-off ("Thanks, Maria", "Best regards,\nJohn
Smith", "Mit freundlichen Grüßen\nDr. Klaus Weber", "— Priya" at the end, a "-- " signature
line), after "thanks"/"merci"/"danke", after "my name is", and as the display name before an
address in brackets ("Jane Roe <jane@example.com>"). Names elsewhere in a sentence are not
found: that needs a named-entity model, and the spots above are where feedback carries them.

Decisions: a capitalised word in those spots is a name unless a stop list says otherwise:
"Hi team", "Hello there", "Hello, Can you…", "Dear Valued Customer", "Best,\nAcme Customer
Success" stay. Our product and the vendors Chorus reads from are on the stop list ("Thanks
Chorus", "Thanks Zendesk" stay); other product names after "Thanks" are redacted, the cheaper
error. A lower-case word is a name only right after "hi"/"thanks" and before "," or "!"
("hi jane,"); acronyms ("Hi QA") never are.
"""

from __future__ import annotations

import re

from transforms.pii.spans import PiiSpan, substring_finder

_UP = r"A-ZÀ-ÖØ-Þ"
_WORD = r"[^\W\d_][\w'’-]*"
# lower-case particles inside a name: "María de la Cruz", "Daan van der Berg"
_PARTICLE = r"(?:de|del|della|di|da|do|dos|das|du|la|le|van|von|der|den|ter|ten|bin|ibn|al|el|y)"
_NAME_WORDS = (
    rf"(?P<name>(?:[{_UP}]\.[ \t]?)?{_WORD}"
    rf"(?:[ \t]+(?:{_PARTICLE}[ \t]+){{0,2}}(?:[{_UP}]\.[ \t]?)?{_WORD}){{0,2}})"
)
_TITLE = (
    r"(?:(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Herr|Frau|Mme|Mlle|Sr|Sra|Srta|Dhr|Mevr|Sig|Sig\.ra|"
    r"Signora|Signor|Señor|Señora|Monsieur|Madame|M)\.?[ \t]+)"
)
# Greetings and sign-offs start a line or a sentence: they are matched only at those
# positions (``_STARTS``), which is much faster than scanning every character.
_STARTS = re.compile(r"\n|[.!?:][ \t]")
_GREETING_WORDS = (
    r"(?:hi|hello|hey|heya|hiya|dear|greetings|good (?:morning|afternoon|evening)|morning|"
    r"hallo|moin|servus|grüezi|guten (?:morgen|tag|abend)|liebe[rsn]?|sehr geehrte[rsn]?|"
    r"hola|buenos días|buenas tardes|buenas|estimad[oa]s?|querid[oa]|"
    r"bonjour|bonsoir|salut|coucou|cher|chère|"
    r"ciao|salve|buongiorno|gentile|car[oa]|"
    r"olá|ola|oi|prezad[oa]|bom dia|boa tarde|"
    r"hoi|hee|beste|geachte|goedemorgen|goedemiddag|"
    r"hej|hei|moi|cześć|dzień dobry|ahoj|привет|здравствуйте|добрый день)"
)
_GREETING = re.compile(r"(?im)[ \t]*" + _GREETING_WORDS + rf"[ \t]*,?[ \t]+{_TITLE}?{_NAME_WORDS}")
_SIGN_OFF_WORDS = (
    r"(?:(?:best|kind|warm|warmest|many|with)?[ \t]?regards|best wishes|best|all the best|"
    r"thanks(?: a lot| again| in advance| so much)?|thank you(?: very much| so much| in advance)?|"
    r"many thanks|thx|ty|cheers|sincerely|yours(?: truly| sincerely)?|respectfully|br|talk soon|"
    r"mit freundlichen gr(?:ü|ue|u)(?:ß|ss)en|freundliche grüße|viele grüße|liebe grüße|"
    r"beste grüße|schöne grüße|lg|vg|mfg|gruß|grüße|danke(?: schön)?|vielen dank|"
    r"cordialement|bien cordialement|bien à vous|merci(?: beaucoup)?|salutations|bises|"
    r"saludos(?: cordiales)?|un saludo|atentamente|gracias|un abrazo|"
    r"met vriendelijke groet(?:en)?|vriendelijke groet(?:en)?|groeten|groetjes|bedankt|"
    r"cordiali saluti|saluti|grazie(?: mille)?|distinti saluti|atenciosamente|abraços|obrigad[oa]|"
    r"pozdrawiam|с уважением|спасибо|bonne (?:journée|soirée)|buona giornata|"
    r"(?:have a )?(?:nice|great|good) (?:day|weekend)|schönen (?:tag|abend)|tschüss|ciao)"
)
_SIGN_OFF = re.compile(
    r"(?im)[ \t]*"
    + _SIGN_OFF_WORDS
    + rf"[ \t]*[,!.:;-]*[ \t]*(?:\n[ \t]*){{0,2}}{_TITLE}?{_NAME_WORDS}[ \t]*[.!]?"
    r"(?:[ \t]*(?:\(|\||,[ \t]|[–—-][ \t])[^\n]{0,60})?[ \t]*$"
)
# Fast path for the two patterns above. Both start with ``[ \t]*`` and then one of their
# keywords, so ``[ \t]*(?:greeting keywords|sign-off keywords)`` (same strings, same flags, so
# the same case folding) matching at a start is necessary for either to match there. One
# scan of "\n" + text finds the starts where it does (``_starts``): ``_OPENER`` matches a
# delimiter of ``_STARTS`` (the leading "\n" stands for position 0; its first character
# class lets the regex engine skip ahead to delimiters), then blanks and a keyword. Group 1
# ends where ``_STARTS`` ends: the start. What a match consumes after its first character
# holds no delimiter character (blanks and keyword letters only), so no later start is
# hidden by it. The keywords are regrouped by first letter (``_by_first_letter``: the same
# language, so the same matches), which spares the engine trying ~120 alternatives in turn.


def _branches(alternation: str) -> list[str]:
    """The top-level alternatives of the group ``(?:a|b|...)``."""
    if not (alternation.startswith("(?:") and alternation.endswith(")")):
        raise ValueError(alternation)
    out, depth, in_class, escaped, last = [], 0, False, False, 3
    for i, ch in enumerate(alternation[3:-1], start=3):
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:  # the first group closes before the end: not one group
                raise ValueError(alternation)
        elif ch == "|" and depth == 0:
            out.append(alternation[last:i])
            last = i + 1
    if depth or in_class or escaped:
        raise ValueError(alternation)
    out.append(alternation[last:-1])
    return out


def _by_first_letter(*alternations: str) -> str:
    """The alternatives of all ``alternations`` in one group, those that start with a letter
    not followed by a quantifier grouped under it: ``(?:ab|ac)``, ``(?:d|[ef]g)`` give
    ``(?:a(?:b|c)|d(?:)|[ef]g)``, the same language."""
    groups: dict[str, list[str]] = {}
    others: list[str] = []
    for branch in (b for alternation in alternations for b in _branches(alternation)):
        if branch[:1].isalpha() and branch[1:2] not in ("?", "*", "+", "{"):
            groups.setdefault(branch[0], []).append(branch[1:])
        else:
            others.append(branch)
    grouped = [f"{letter}(?:{'|'.join(rests)})" for letter, rests in groups.items()]
    return f"(?:{'|'.join(grouped + others)})"


_OPENER_WORDS = r"[ \t]*" + _by_first_letter(_GREETING_WORDS, _SIGN_OFF_WORDS)
_OPENER = re.compile(r"(?im)([\n.!?:](?:(?<=\n)|(?<=[.!?:])[ \t]))" + _OPENER_WORDS)
_THANKS_NAME = re.compile(
    r"(?i)\b(?:thanks|thank you|thx|merci|danke|gracias|grazie|bedankt|obrigad[oa])"
    r"(?: so much| very much| a lot| mille| beaucoup| schön| sehr| muito| wel)?"
    rf"[ \t]*,?[ \t]+{_TITLE}?{_NAME_WORDS}"
    r"(?=[ \t]*(?:[,!.:;)]|$|for\b|für\b|pour\b|por\b|per\b|voor\b))"
)
_DASH_NAME = re.compile(rf"(?:^|(?<=\s))[—–-]{{1,2}}[ \t]?{_NAME_WORDS}[ \t]*\Z")
# the e-mail signature delimiter line "-- " and the name on the next line
_SIGNATURE = re.compile(rf"(?m)^--[ \t]*\n[ \t]*{_NAME_WORDS}[ \t]*$")
# Substrings (of the lower-cased text) without which a pattern cannot match: a plain
# substring test is far cheaper than a case-insensitive regex scan.
_THANKS_HINTS = ("than", "thx", "merci", "dank", "graci", "grazi", "bedankt", "obrigad")
_INTRODUCTION_HINTS = ("name", "heiße", "heisse", "appelle", "llamo", "nombre", "naam", "heet",
                       "chiamo", "nome")  # fmt: skip
# Some hint of either list is a substring of the lower-cased text iff this finds one.
_ANY_HINT = substring_finder(_THANKS_HINTS + _INTRODUCTION_HINTS)
# ``_DASH_NAME`` ends with a word of ``_NAME_WORDS`` (last character in ``[\w'’-]``), then
# ``[ \t]*\Z``; it starts with one of "—", "–", "-" at or after where it is searched from.
_NAME_LAST_CHAR = re.compile(r"[\w'’-]")
_DASHES = ("-", "—", "–")


def _dash_name_possible(text: str) -> bool:
    """Necessary for ``_DASH_NAME.search(text, max(0, len(text) - 120))`` to find a match."""
    end = len(text)
    while end and text[end - 1] in " \t":
        end -= 1
    if not end or _NAME_LAST_CHAR.match(text, end - 1) is None:
        return False
    start = max(0, len(text) - 120)
    return any(text.find(dash, start) >= 0 for dash in _DASHES)


# "From: Jane Roe <jane.roe@example.com>": the display name before an address in brackets
_DISPLAY_NAME = re.compile(
    rf"(?P<name>[{_UP}][\w'’-]*(?:[ \t]+(?:{_PARTICLE}[ \t]+)?[{_UP}][\w'’.-]*){{0,3}})"
    r"[ \t]*<[^<>@\s]{1,64}@[^<>@\s]{1,255}>"
)
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
    signora señor señora valued dearest esteemed
    can could would shall should may might must is are was were am be been do does did
    have has had i'm i've i'd i'll it's we're we've there's here's what when where why how who
    which if just any anyone anybody quick since after before while when also still not
    ich wir bitte kann könnten können ist habe haben es gibt je nous pouvez est-ce j'ai il
    puede podría tengo tenemos hay posso vorrei ho abbiamo c'è kunnen kunt ik heb
    chorus zendesk intercom slack jira github typeform surveymonkey qualtrics freshdesk
    testflight apple google microsoft amazon aws zoom notion salesforce hubspot okta""".split()
)
# "Hi Ngozi and Kwame": a second name joined to the first
_AND_NAME = re.compile(
    rf"[ \t]*(?:and|&|und|et|y|e|en|och|og|i)[ \t]+(?P<name>(?:[{_UP}]\.[ \t]?)?{_WORD}"
    rf"(?:[ \t]+{_WORD})?)"
)
_GROUP_AFTER = re.compile(
    r"[ \t]+(?:team|support|folks|crew|people|guys|all|squad|devs|customer|success|care|"
    r"service|services|sales|billing|operations|ops|department|desk|helpdesk)\b",
    re.I,
)


def _name_span(text: str, m: re.Match[str]) -> PiiSpan | None:
    """The longest run of capitalised, non-stop-list words at the start of the match."""
    start = m.start("name")
    end = start
    for w in re.finditer(r"\S+", m.group("name")):
        word = w.group()
        bare = word.rstrip(".")
        if bare in _PARTICLES_SET and end > start:
            continue  # kept only when a capitalised word follows
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


_PARTICLES_SET = frozenset(_PARTICLE[3:-1].split("|"))


# Words that follow "hi"/"thanks" in lower case without being a name ("thanks bro,")
_LOWER_STOP = frozenset(
    """bro bros dude dudes man men alot though tho anyway anyways heaps loads tons lots
    both again guys y'all yall everyone everybody all there folks you mille beaucoup muito
    sehr vielmals schön igualmente infinitamente tante demais plenty""".split()
)


def _lower_name_span(text: str, m: re.Match[str]) -> PiiSpan | None:
    """A lower-case name right after "hi"/"thanks" and right before "," or "!": "hi jane,"."""
    start = m.start("name")
    word = m.group("name").split(None, 1)[0]
    end = start + len(word)
    if not (word.isalpha() and word.islower() and len(word) >= 2):
        return None
    if word in _STOP or word in _LOWER_STOP or text[end : end + 1] not in (",", "!"):
        return None
    return PiiSpan(start, end, "name")


def _in_list(text: str, start: int) -> bool:
    """Whether a "- Word" line closes a bulleted list rather than signing a message."""
    if text[start : start + 1] != "-":
        return False
    previous = text[:start].rstrip().rsplit("\n", 1)[-1].lstrip()
    return previous[:1] in ("-", "*", "•")


def _starts(text: str) -> list[tuple[int, bool]]:
    """The line and sentence starts (see ``_STARTS``) where a greeting or sign-off keyword
    begins, in order, each with whether it follows a colon."""
    shifted = "\n" + text  # index i + 1 of shifted is index i of text
    starts: list[tuple[int, bool]] = []
    m = _OPENER.search(shifted)  # (search, not finditer: cheaper when nothing is found)
    while m is not None:
        starts.append((m.end(1) - 1, shifted[m.start()] == ":"))
        m = _OPENER.search(shifted, m.end())
    return starts


def _matches(text: str) -> list[tuple[re.Pattern[str], re.Match[str]]]:
    """Candidate matches of every name pattern, each tried only where it can apply."""
    out: list[tuple[re.Pattern[str], re.Match[str]]] = []
    for pos, after_colon in _starts(text):
        if (g := _GREETING.match(text, pos)) is not None:
            out.append((_GREETING, g))
        if not after_colon and (s := _SIGN_OFF.match(text, pos)) is not None:
            out.append((_SIGN_OFF, s))  # "Note: Thanks ..." is no sign-off
    low = text.lower()
    hint = _ANY_HINT.search(low) is not None  # one scan for both hint lists
    if hint and any(h in low for h in _THANKS_HINTS):
        out += [(_THANKS_NAME, m) for m in _THANKS_NAME.finditer(text)]
    if _dash_name_possible(text):
        tail = _DASH_NAME.search(text, max(0, len(text) - 120))
        if tail is not None:
            out.append((_DASH_NAME, tail))
    if hint and any(h in low for h in _INTRODUCTION_HINTS):
        out += [(_INTRODUCTION, m) for m in _INTRODUCTION.finditer(text)]
    if "\n--" in text:
        out += [(_SIGNATURE, m) for m in _SIGNATURE.finditer(text)]
    if "@" in text and "<" in text:
        out += [(_DISPLAY_NAME, m) for m in _DISPLAY_NAME.finditer(text)]
    return out


def name_spans(text: str) -> list[PiiSpan]:
    """Person names after greetings, in sign-offs, after "thanks" and "my name is", and
    display names before an e-mail address in angle brackets."""
    spans: list[PiiSpan] = []
    for pattern, m in _matches(text):
        span = _name_span(text, m)
        if span is None and (pattern is _GREETING or pattern is _THANKS_NAME):
            span = _lower_name_span(text, m)
        if span is None or pattern is _DASH_NAME and _in_list(text, m.start()):
            continue
        spans.append(span)
        second = _AND_NAME.match(text, span.end) if pattern is _GREETING else None
        if second is not None and (other := _name_span(text, second)) is not None:
            spans.append(other)
    return spans
