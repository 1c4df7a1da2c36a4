"""Text cleaning for feedback items: HTML to text, quoted replies and signatures off,
Unicode and whitespace normalised, language detected.

Every function here is pure and total: any ``str`` goes in, a ``str`` comes out, nothing
raises. Regexes are anchored per line and bounded, so a 1 MB input stays linear.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from html.parser import HTMLParser

__all__ = [
    "detected_language",
    "detected_languages",
    "looks_like_html",
    "normalized_text",
    "normalized_texts",
    "text_from_html",
    "without_quoted_reply",
    "without_signature",
]

# ---------------------------------------------------------------------------------------
# HTML

_BLOCK_TAGS = frozenset(
    "address article aside blockquote dd details div dl dt figcaption figure footer form "
    "h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section summary table tbody thead "
    "tfoot tr ul".split()
)
_SKIP_TAGS = frozenset({"script", "style", "head", "title", "template", "noscript", "svg"})
_PARAGRAPH_TAGS = frozenset(
    "p h1 h2 h3 h4 h5 h6 ul ol dl table blockquote pre hr figure details".split()
)
_CELL_TAGS = frozenset({"td", "th"})
_INLINE_SPACE = re.compile(r"[^\S\n]+")


class _TextExtractor(HTMLParser):
    """Collects text lines; blockquote depth becomes a "> " prefix per line."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self._current: list[str] = []
        self._skip_depth = 0
        self._pre_depth = 0
        self._quote_depth = 0

    def _flush(self) -> bool:
        line = "".join(self._current).strip()
        self._current = []
        if line and line != "-":
            self.lines.append("> " * self._quote_depth + line)
            return True
        return False

    def _paragraph_break(self) -> None:
        self._flush()
        if self.lines and self.lines[-1]:
            self.lines.append("")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skip_depth += 1
        elif tag in ("br", "hr"):
            if not self._flush():
                self.lines.append("")
        elif tag in _BLOCK_TAGS:
            if tag in _PARAGRAPH_TAGS:
                self._paragraph_break()
            else:
                self._flush()
            if tag == "blockquote":
                self._quote_depth += 1
            elif tag == "pre":
                self._pre_depth += 1
            elif tag == "li":
                self._current.append("- ")
        elif tag in _CELL_TAGS:
            self._current.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag in _SKIP_TAGS:
            self._skip_depth = max(0, self._skip_depth - 1)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag in _BLOCK_TAGS:
            if tag in _PARAGRAPH_TAGS:
                self._paragraph_break()
            else:
                self._flush()
            if tag == "blockquote":
                self._quote_depth = max(0, self._quote_depth - 1)
            elif tag == "pre":
                self._pre_depth = max(0, self._pre_depth - 1)
        elif tag in _CELL_TAGS:
            self._current.append(" ")

    def handle_data(self, data: str) -> None:
        if self._skip_depth:
            return
        if self._pre_depth:
            parts = data.split("\n")
            for i, part in enumerate(parts):
                if i and not self._flush():
                    self.lines.append("")
                self._current.append(part)
        else:
            self._current.append(_INLINE_SPACE.sub(" ", data.replace("\n", " ")))

    def text(self) -> str:
        self._flush()
        return _squeezed_blank_lines("\n".join(self.lines))


def text_from_html(html: str) -> str:
    """Plain text of an HTML fragment: blocks and ``<br>`` become line breaks, list items
    start with "- ", ``<blockquote>`` lines start with "> ", script/style are dropped and
    entities unescaped."""
    parser = _TextExtractor()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # html.parser is lenient, but stay total on pathological input
        return _squeezed_blank_lines(re.sub(r"<[^<>]{0,2000}>", " ", html))
    return parser.text().replace("\xa0", " ")


_HTML_TAG = re.compile(
    r"<(?:/?(?:p|div|br|span|a|b|i|u|em|strong|ul|ol|li|table|tr|td|th|h[1-6]|blockquote|"
    r"img|font|pre|code|html|body|head|hr|section|article|center|small|sup|sub)\b[^<>]{0,500}"
    r"|!doctype\b[^<>]{0,200}|!--)>?",
    re.IGNORECASE,
)
_HTML_ENTITY = re.compile(r"&(?:nbsp|amp|lt|gt|quot|apos|#\d{1,7}|#x[0-9a-f]{1,6});", re.I)


def looks_like_html(text: str) -> bool:
    """True when ``text`` is markup: at least two known tags (or a doctype/``<html>``),
    and not a Markdown text that merely shows HTML inside a code fence."""
    head = text[:20000]
    if "<" not in head:
        return False
    if "```" in head:
        return False
    if re.match(r"\s*<(?:!doctype|html)\b", head, re.IGNORECASE):
        return True
    tags = 0
    for _ in _HTML_TAG.finditer(head):
        tags += 1
        if tags >= 2:
            return True
    return tags == 1 and bool(_HTML_ENTITY.search(head))


# ---------------------------------------------------------------------------------------
# Quoted replies

# "On <date>, <name> wrote:" and its translations; a header may wrap onto a second line.
_REPLY_HEADER = re.compile(
    r"(?:On\s.{0,250}\swrote"
    r"|Am\s.{0,250}\sschrieb.{0,250}"
    r"|Le\s.{0,250}\sa\s+écrit"
    r"|El\s.{0,250}\sescribió"
    r"|Op\s.{0,250}\sschreef.{0,250}"
    r"|Il\s.{0,250}\sha\s+scritto"
    r"|Em\s.{0,250}\sescreveu"
    r"|Den\s.{0,250}\sskrev.{0,250}"
    r")\s?:\s*",
    re.IGNORECASE,
)
_REPLY_HEADER_START = re.compile(r"(?:On|Am|Le|El|Op|Il|Em|Den)\s", re.IGNORECASE)
_ORIGINAL_MESSAGE = re.compile(
    r"-{2,}\s*(?:Original Message|Ursprüngliche Nachricht|Message d'origine|"
    r"Mensaje original|Oorspronkelijk bericht|Messaggio originale|Mensagem original)\s*-{2,}\s*"
    r"|_{10,}\s*"  # the Outlook rule above a header block
    r"|#{2}-\s*Please type your reply above this line\s*-#{2}.*",
    re.IGNORECASE,
)
_FORWARD_MARKER = re.compile(
    r"-{2,}\s*(?:Forwarded message|Weitergeleitete Nachricht|Message transféré|"
    r"Mensaje reenviado|Doorgestuurd bericht)\s*-{2,}\s*|Begin forwarded message:\s*",
    re.IGNORECASE,
)
_HEADER_FROM = re.compile(r"\*?(?:From|Von|De|Van|Da)\s?:", re.IGNORECASE)
_HEADER_SENT = re.compile(
    r"\*?(?:Sent|Date|Gesendet|Datum|Envoyé|Enviado(?: el)?|Fecha|Verzonden|Inviato|Data)\s?:",
    re.IGNORECASE,
)
_HEADER_TO_SUBJECT = re.compile(
    r"\*?(?:To|Subject|Cc|An|Betreff|À|A|Objet|Para|Asunto|Aan|Onderwerp|Oggetto)\s?:",
    re.IGNORECASE,
)
_HEADER_ANY = re.compile(
    r"\*?(?:From|Sent|Date|To|Cc|Subject|Von|Gesendet|Datum|An|Betreff|De|Envoyé|À|Objet|"
    r"Para|Enviado|Fecha|Asunto|Van|Verzonden|Aan|Onderwerp)\s?:",
    re.IGNORECASE,
)
_MAX_HEADER_LINE = 400


def _is_reply_header(lines: list[str], i: int) -> bool:
    line = lines[i].strip()
    if len(line) > _MAX_HEADER_LINE or not _REPLY_HEADER_START.match(line):
        return False
    if _REPLY_HEADER.fullmatch(line):
        return True
    # Gmail wraps long headers: "On Mon, ... Jane Doe <\njane@example.com> wrote:"
    if i + 1 < len(lines):
        joined = line + " " + lines[i + 1].strip()
        return len(joined) <= _MAX_HEADER_LINE and bool(_REPLY_HEADER.fullmatch(joined))
    return False


def _is_outlook_header(lines: list[str], i: int) -> bool:
    if not _HEADER_FROM.match(lines[i].strip()):
        return False
    window = [line.strip() for line in lines[i + 1 : i + 6]]
    return any(_HEADER_SENT.match(line) for line in window) and any(
        _HEADER_TO_SUBJECT.match(line) for line in window
    )


def _forward_header_end(lines: list[str], i: int) -> int:
    """Index of the first body line after a forwarded-message marker and its headers."""
    j = i + 1
    while j < len(lines) and (not lines[j].strip() or _HEADER_ANY.match(lines[j].strip())):
        j += 1
    return j


def without_quoted_reply(text: str) -> str:
    """``text`` without quoted e-mail history.

    Removes lines quoted with ">" (so an inline answer between quotes survives) and cuts
    everything from a reply header on: "On ... wrote:" (and German, French, Spanish, Dutch,
    Italian, Portuguese, Swedish forms), "-----Original Message-----", an Outlook
    From/Sent/To/Subject block, Zendesk's "reply above this line". A forwarded message
    ("---------- Forwarded message ---------", "Begin forwarded message:") is kept: in a
    feedback inbox the forwarded body is usually the customer's words. Only its marker and
    header lines (which carry names and addresses) are dropped.
    """
    lines = text.split("\n")
    kept: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.lstrip()
        if stripped.startswith(">"):
            i += 1
            continue
        if len(stripped) <= _MAX_HEADER_LINE:
            if _FORWARD_MARKER.fullmatch(stripped):
                i = _forward_header_end(lines, i)
                continue
            if (
                _ORIGINAL_MESSAGE.fullmatch(stripped)
                or _is_reply_header(lines, i)
                or _is_outlook_header(lines, i)
            ):
                break
        kept.append(line)
        i += 1
    return "\n".join(kept).rstrip()


# ---------------------------------------------------------------------------------------
# Signatures

_SENT_FROM = re.compile(
    r"(?:Sent from (?:my )?\S.{0,60}|Get Outlook for \S.{0,40}|Sent via \S.{0,60}"
    r"|Von meinem \S.{0,40} gesendet|Gesendet von \S.{0,60}|Envoyé de mon \S.{0,40}"
    r"|Enviado desde mi \S.{0,40}|Verzonden (?:vanaf|met) \S.{0,40}|Inviato da \S.{0,40}"
    r"|Enviado do meu \S.{0,40})",
    re.IGNORECASE,
)
_SIGN_OFF = re.compile(
    r"(?:(?:best|kind|warm|warmest|many|with)?\s?regards|best wishes|best|all the best|"
    r"thanks(?: a lot| again| in advance)?|thank you(?: very much| in advance)?|many thanks|"
    r"thx|ty|cheers|sincerely|yours(?: truly| sincerely)?|respectfully|br|greetings|"
    r"mit freundlichen grüßen|mit freundlichen grüssen|freundliche grüße|viele grüße|"
    r"liebe grüße|beste grüße|schöne grüße|lg|vg|mfg|gruß|grüße|danke|vielen dank|"
    r"cordialement|bien cordialement|bien à vous|merci(?: beaucoup)?|salutations|"
    r"saludos(?: cordiales)?|un saludo|atentamente|gracias|"
    r"met vriendelijke groet(?:en)?|vriendelijke groet(?:en)?|groeten|groetjes|bedankt|"
    r"cordiali saluti|saluti|grazie|atenciosamente|abraços|obrigad[oa])"
    r"[,.!:;]*(?P<name>(?:\s+[^\W\d_][\w'’.-]{0,30}){0,3})[,.!]?",
    re.IGNORECASE,
)
_MAX_SIGNATURE_LINES = 5
_MAX_SIGNATURE_LINE = 70


def _signature_like(line: str) -> bool:
    """A short name/title/company/contact line, not a sentence of the message."""
    if len(line) > _MAX_SIGNATURE_LINE or line.endswith("?"):
        return False
    return len(line.split()) <= 6 or any(ch.isdigit() or ch in "@|" for ch in line)


def without_signature(text: str) -> str:
    """``text`` without its trailing signature.

    Cuts at a "-- " delimiter, at "Sent from my iPhone"-style lines, and at a sign-off line
    ("Best regards,", "Thanks, Maria", "Mit freundlichen Grüßen", ...) when only a few short
    lines (name, title, company, phone) follow it. A sign-off that is the whole message, or a
    "thanks" inside a sentence, is kept.
    """
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if line.rstrip() in ("--", "-- ") and i > 0:
            lines = lines[:i]
            break
    for i, line in enumerate(lines):
        stripped = line.strip()
        if len(stripped) <= 100 and _SENT_FROM.fullmatch(stripped):
            lines = lines[:i]
            break
    nonblank = [i for i, line in enumerate(lines) if line.strip()]
    # Search the last few non-blank lines for a sign-off with only a short tail after it.
    for pos in range(max(1, len(nonblank) - _MAX_SIGNATURE_LINES - 1), len(nonblank)):
        i = nonblank[pos]
        stripped = lines[i].strip()
        match = _SIGN_OFF.fullmatch(stripped) if len(stripped) <= 60 else None
        if not match or not all(w[0].isupper() for w in match["name"].split()):
            continue
        tail = [lines[j].strip() for j in nonblank[pos + 1 :]]
        if len(tail) <= _MAX_SIGNATURE_LINES - 1 and all(map(_signature_like, tail)):
            lines = lines[:i]
            break
    return "\n".join(lines).rstrip()


# ---------------------------------------------------------------------------------------
# Unicode and whitespace

# Zero-width and bidi format characters. ZWJ/ZWNJ (U+200C/U+200D) stay when they sit inside
# a word or emoji sequence (Persian, Indic scripts, family emoji), where they carry meaning.
_INVISIBLE = re.compile(
    r"[\u200b\u2060\ufeff\u180e\u00ad\u200e\u200f\u202a-\u202e\u2066-\u2069\u061c]"
    r"|(?<!\S)[\u200c\u200d]|[\u200c\u200d](?!\S)"
)
# Every match of _INVISIBLE is one of these characters: no candidate, nothing to remove.
_INVISIBLE_CANDIDATE = re.compile(
    r"[\u200b\u2060\ufeff\u180e\u00ad\u200e\u200f\u202a-\u202e\u2066-\u2069\u061c\u200c\u200d]"
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f]")
_LINE_BREAKS = re.compile(r"\r\n?|[\x85\u2028\u2029\x0b\x0c]")
_HSPACE = re.compile(r"[^\S\n]+")
_SPACE_AROUND_NEWLINE = re.compile(r" ?\n ?")
_BLANK_LINES = re.compile(r"\n{3,}")

# Fast paths in normalized_text (tests switch them off to compare against the full path).
# They rest on one fact, checked over every code point in tests/transforms/test_normalize_fastpath.py:
# each character that _LINE_BREAKS, _CONTROL or _INVISIBLE can match, "\t", "\n", and every
# whitespace character except " " is in category Cc, Cf, Cs, Zl, Zp or Zs, so
# str.isprintable() is False for it. A printable text is therefore one line whose only
# whitespace is " ", and the line-break, invisible, control and tab steps leave it unchanged.
_FAST_PATHS = True


def _squeezed_blank_lines(text: str) -> str:
    text = _SPACE_AROUND_NEWLINE.sub("\n", _HSPACE.sub(" ", text))
    return _BLANK_LINES.sub("\n\n", text).strip()


def _cleaned_printable_line(line: str) -> str:
    """``_squeezed_blank_lines(without_signature(without_quoted_reply(line)))`` for a
    printable ``line`` (no "\n", no whitespace but " "), without the per-line machinery."""
    # without_quoted_reply on a single line: a ">" quote, a forward marker (its header scan
    # ends at the end of the text) and a reply header all leave nothing; an Outlook header
    # needs Sent/To lines after it, and there are none.
    stripped = line.lstrip()
    if stripped[:1] == ">":
        return ""
    if len(stripped) <= _MAX_HEADER_LINE and (
        _FORWARD_MARKER.fullmatch(stripped)
        or _ORIGINAL_MESSAGE.fullmatch(stripped)
        or _is_reply_header([line], 0)
    ):
        return ""
    line = line.rstrip()
    # without_signature on a single line: the "-- " delimiter needs a line before it and
    # the sign-off search range is empty (range(1, 1)); only a "Sent from ..." line cuts.
    stripped = line.lstrip()
    if len(stripped) <= 100 and _SENT_FROM.fullmatch(stripped):
        return ""
    # _squeezed_blank_lines: without "\n" and with " " as the only whitespace, _HSPACE can
    # change only a run of two or more spaces, and the newline patterns cannot match.
    if "  " in line:
        return _squeezed_blank_lines(line)
    return line.strip()


def normalized_text(raw: str | None, *, html: bool | None = None) -> str:
    """Clean text of one feedback item: HTML to text (auto-detected when ``html`` is None),
    quoted reply and signature removed, NFC, invisible and control characters removed,
    whitespace collapsed (at most one blank line), stripped. Never raises."""
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raw = str(raw)
    fast = _FAST_PATHS
    if fast and raw.isprintable():
        text = raw  # no \r, \x0b, \x0c, \x85, U+2028, U+2029 (all non-printable)
    else:
        text = _LINE_BREAKS.sub("\n", raw)
    if html or (html is None and looks_like_html(text)):
        text = text_from_html(text)
    # ASCII text is NFC (no ASCII character decomposes or composes), and is_normalized is
    # exactly "normalize() would return it unchanged".
    if not (fast and text.isascii()):
        try:
            done = fast and unicodedata.is_normalized("NFC", text)
        except ValueError:
            done = False
        if not done:
            try:
                text = unicodedata.normalize("NFC", text)
            except ValueError:  # lone surrogates cannot be normalised; drop them
                text = text.encode("utf-8", "ignore").decode("utf-8")
                text = unicodedata.normalize("NFC", text)
    if fast and text.isprintable():
        return _cleaned_printable_line(text)
    # All _INVISIBLE characters are non-ASCII, and each match is one candidate character.
    if not fast or (not text.isascii() and _INVISIBLE_CANDIDATE.search(text)):
        text = _INVISIBLE.sub("", text)
    text = _CONTROL.sub("", text.replace("\t", " "))
    text = without_signature(without_quoted_reply(text))
    return _squeezed_blank_lines(text)


def normalized_texts(texts: Iterable[str | None]) -> list[str]:
    """``normalized_text`` of each item."""
    return [normalized_text(t) for t in texts]


# ---------------------------------------------------------------------------------------
# Language


from transforms.language import detected_language, detected_languages  # noqa: E402,F401  (re-exported)
