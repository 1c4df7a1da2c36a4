"""Number-shaped personal data: payment cards, IBANs, IP addresses, phone numbers.

Each detector finds loose candidates with a linear regex and keeps only those that pass a
real-world check, so the many harmless numbers in feedback (versions, dates, order and
ticket ids, prices, UUIDs, ISBNs, build numbers) stay.
"""

from __future__ import annotations

import ipaddress
import re

from transforms.pii.spans import PiiSpan, before, has_digit

# Letters of scripts written without spaces (CJK) may touch a number; Latin letters, digits
# and "_" next to one mean it is part of an identifier.
_W = r"0-9A-Za-z_\u00c0-\u024f"

# Words that make the number after them an identifier or a version, not personal data.
_ID_CONTEXT = re.compile(
    r"\b(?:order|ticket|invoice|case|ref|reference|tracking|transaction|txn|request|req|"
    r"issue|build|version|ver|release|isbn|sku|serial|po|bestellung|bestellnummer|"
    r"rechnung|auftrag|commande|facture|pedido|factura|bestelling|factuur|ordine|id)"
    r"\s*(?:number|no\.?|nr\.?|num\.?|n[º°o]\.?|#|id)?\s*[:#.]?\s*$"
)


def _after_id_word(text: str, start: int) -> bool:
    return bool(_ID_CONTEXT.search(before(text, start, 28)))


# ---------------------------------------------------------------------------------------
# Payment cards

_CARD_CANDIDATE = re.compile(rf"(?<![{_W}.,/#-])\d(?:[ -]?\d){{12,18}}(?![{_W}]|[.,]\d|-\d)")
# Fast path: every candidate starts with this (its first 13 digits); unlike the candidate
# pattern, which opens with a look-behind, it lets the regex engine skip to the digits.
_CARD_HINT = re.compile(r"\d(?:[ -]?\d){12}")


def _luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _card_brand_ok(digits: str) -> bool:
    """Issuer prefix (IIN) and length of a real card scheme."""
    n = len(digits)
    p2, p3, p4, p6 = int(digits[:2]), int(digits[:3]), int(digits[:4]), int(digits[:6])
    if digits[0] == "4":  # Visa
        return n in (13, 16, 19)
    if 51 <= p2 <= 55 or 2221 <= p4 <= 2720:  # Mastercard
        return n == 16
    if p2 in (34, 37):  # American Express
        return n == 15
    if p4 == 6011 or 644 <= p3 <= 649 or p2 == 65:  # Discover
        return 16 <= n <= 19
    if 3528 <= p4 <= 3589:  # JCB
        return 16 <= n <= 19
    if p2 == 36 or 300 <= p3 <= 305 or p2 in (38, 39) or p4 == 3095:  # Diners Club
        return 14 <= n <= 19
    if p2 == 62 or p2 == 81:  # UnionPay
        return 16 <= n <= 19
    if 2200 <= p4 <= 2204:  # Mir
        return 16 <= n <= 19
    if p2 in (50, 56, 57, 58) or p4 in (6304, 6759, 6761, 6762, 6763) or p2 == 67:  # Maestro
        return 13 <= n <= 19
    if 622126 <= p6 <= 622925 or p2 == 60 or p4 in (6521, 6522):  # RuPay, other 6-range
        return n == 16
    return False


def _is_card(raw: str, text: str, start: int) -> bool:
    digits = raw.replace(" ", "").replace("-", "")
    if not 13 <= len(digits) <= 19 or " " in raw and "-" in raw:
        return False
    groups = re.split(r"[ -]", raw)
    if len(groups) > 1 and (
        len(groups) > 5 or len(groups[0]) != 4 or any(len(g) < 3 for g in groups[1:-1])
    ):
        return False
    return _luhn_valid(digits) and _card_brand_ok(digits) and not _after_id_word(text, start)


def card_spans(text: str) -> list[PiiSpan]:
    """Luhn-valid card numbers with a real issuer prefix, plain or grouped by spaces/dashes.
    A candidate glued to a neighbouring number ("card 4111111111111111 2") is split."""
    if not has_digit(text) or _CARD_HINT.search(text) is None:
        return []
    spans: list[PiiSpan] = []
    for m in _CARD_CANDIDATE.finditer(text):
        raw = m.group()
        if _is_card(raw, text, m.start()):
            spans.append(PiiSpan(m.start(), m.end(), "card"))
            continue
        groups = list(re.finditer(r"\d+", raw))
        found = False
        for i in range(len(groups)):
            if len(groups[i].group()) < 4:
                continue  # a card starts with a 4-digit group (or is one compact number)
            for j in range(min(len(groups), i + 5), i, -1):
                if (i, j) == (0, len(groups)) or (i and j > i + 1):
                    continue  # drop trailing neighbours, or take one compact number
                start, end = groups[i].start(), groups[j - 1].end()
                if _is_card(raw[start:end], text, m.start() + start):
                    spans.append(PiiSpan(m.start() + start, m.start() + end, "card"))
                    found = True
                    break
            if found:
                break
    return spans


# ---------------------------------------------------------------------------------------
# IBAN

_IBAN_LENGTH = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HN": 28, "HR": 21, "HU": 28,
    "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28,
    "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22,
    "MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23,
    "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24,
    "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28,
    "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
    # Countries with IBANs outside the SWIFT registry (Francophone Africa, Iran, ...)
    "AO": 25, "BF": 28, "BJ": 28, "CF": 27, "CG": 27, "CI": 28, "CM": 27, "CV": 25, "DZ": 26,
    "GA": 27, "GQ": 27, "IR": 26, "KM": 27, "MA": 28, "MG": 27, "ML": 28, "MZ": 25, "NE": 28,
    "SN": 28, "TD": 27, "TG": 28,
}  # fmt: skip
_IBAN_START = re.compile(r"(?<![A-Za-z0-9])([A-Za-z]{2})\d{2}(?=[ \u00a0]?[A-Za-z0-9])")
# Fast path: every IBAN span starts with an ``_IBAN_START`` match, which contains
# ``[A-Za-z]{2}\d{2}``; written digits first so that the engine can skip to the digits.
_IBAN_HINT = re.compile(r"\d\d(?<=[A-Za-z]{2}\d\d)")


def _iban_valid(iban: str) -> bool:
    rearranged = iban[4:] + iban[:4]
    number = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(number) % 97 == 1


def iban_spans(text: str) -> list[PiiSpan]:
    """IBANs of the right length for their country with a valid mod-97 checksum, compact or
    in (space-separated) groups."""
    if not has_digit(text) or _IBAN_HINT.search(text) is None:
        return []
    spans: list[PiiSpan] = []
    for m in _IBAN_START.finditer(text):
        length = _IBAN_LENGTH.get(m.group(1).upper())
        if length is None:
            continue
        chars = [text[m.start() : m.end()].upper()]
        count, i, n = 4, m.end(), len(text)
        while count < length and i < n:
            ch = text[i]
            if ch.isascii() and ch.isalnum():
                chars.append(ch.upper())
                count += 1
                i += 1
            elif ch in " \u00a0" and i + 1 < n and text[i + 1].isalnum() and text[i - 1] != " ":
                i += 1
            else:
                break
        if count != length or (i < n and text[i].isalnum()):
            continue
        iban = "".join(chars)
        if iban[4:].isalnum() and _iban_valid(iban):
            spans.append(PiiSpan(m.start(), i, "iban"))
    return spans


# ---------------------------------------------------------------------------------------
# IP addresses

_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4 = re.compile(rf"(?<![{_W}.]){_OCTET}(?:\.{_OCTET}){{3}}(?![{_W}]|\.\d)")
# Fast path: an octet is 1-3 of ``\d``, so every IPv4 match contains this.
_IPV4_HINT = re.compile(r"\d\.\d{1,3}\.\d{1,3}\.\d")
_VERSION_CONTEXT = re.compile(
    r"(?:\bv|\bversion|\bver\.?|\bbuild|\brelease|\bfirmware|\bfw|\bupdate[ds]?|\bupgraded?|"
    r"\bsdk|\bpatch|\bios|\bandroid|\bmacos|\bwindows|\bchrome|\bfirefox|\bsafari|\bedge|"
    r"\bapp|\bversión|\bversão|\bversione|\bnode|\bpython|\bjava)\s*[:=]?\s*$"
)
# "upgraded from 1.2.3.4 to 1.2.3.5": version words nearby and no network words
_VERSION_NEARBY = re.compile(
    r"\b(?:version|upgrad\w*|updat\w*|downgrad\w*|release|build|firmware|sdk|plugin|"
    r"rolled back|reverted)s?(?:\s+from)?"
    r"(?:\s+v?[\d.]+)?(?:\s*(?:to|->|→|and|or|,|/))?\s*$"
)
_NETWORK_NEARBY = re.compile(r"\b(?:ip|ips|address|server|host|client|vpn|proxy|firewall)\b")


def _is_version(text: str, start: int) -> bool:
    if _VERSION_CONTEXT.search(before(text, start, 20)):
        return True
    window = before(text, start, 40)
    return bool(_VERSION_NEARBY.search(window)) and not _NETWORK_NEARBY.search(window)


_IPV6_CANDIDATE = re.compile(r"(?<![\w:.])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}"
                             r"(?::\d{1,3}(?:\.\d{1,3}){3})?(?:%[\w.]{1,15})?(?![\w:])")  # fmt: skip


_LOOPBACK6 = re.compile(r"(?<![\w:.])::1(?![\w:.])")


def ip_spans(text: str) -> list[PiiSpan]:
    """IPv4 (each octet 0-255, not part of a longer dotted number or after "v"/"version")
    and IPv6 (full, compressed, IPv4-mapped, with zone id)."""
    spans: list[PiiSpan] = []
    if "." in text and _IPV4_HINT.search(text) is not None:
        for m in _IPV4.finditer(text):
            if not _is_version(text, m.start()):
                spans.append(PiiSpan(m.start(), m.end(), "ip"))
    if text.count(":") >= 2:
        for m in _IPV6_CANDIDATE.finditer(text):
            candidate = m.group()
            hexdigits = sum(ch not in ":.%" for ch in candidate.split("%")[0])
            groups = [g for g in candidate.split("%")[0].split(":") if g]
            if hexdigits < 4 or len(groups) < 2:
                continue
            try:
                ipaddress.IPv6Address(candidate)
            except ValueError:
                continue
            spans.append(PiiSpan(m.start(), m.end(), "ip"))
        for m in _LOOPBACK6.finditer(text):  # "::1" only where the text talks about hosts
            if _NETWORK_NEARBY.search(before(text, m.start(), 40)):
                spans.append(PiiSpan(m.start(), m.end(), "ip"))
    return spans


# ---------------------------------------------------------------------------------------
# Phone numbers

_PHONE_CANDIDATE = re.compile(
    rf"(?<![{_W}+#/.,=-])(?:\+|(?<![{_W}])00)?\(?\d[\d \t().\-/\u00a0]{{4,28}}\d"
    rf"(?![{_W}]|[.,/-]\d)"
)
# Fast path: every candidate is at most 3 characters ("+(", "00(") and then a match of this
# (from its first digit on). Unlike the candidate pattern, which opens with a look-behind,
# it lets the engine skip to the digits; no candidate starts more than 3 characters before
# its first match, so the candidate scan starts there (look-behinds still see what is
# before the start position).
_PHONE_HINT = re.compile(r"\d[\d \t().\-/\u00a0]{4,28}\d")
_PHONE_PREFIX = 3
_PHONE_CONTEXT = re.compile(
    r"(?:\bphone|\btel|\btelephone|\bcall|\bcalled|\bmobile|\bcell|\bwhatsapp|\bsms|\bfax|"
    r"\btext me|\breach me|\bnumber|\bring|\bhotline|\bcontact|\btelefon|\bhandy|\bmobil|"
    r"\bnummer|\brufnummer|\bruf|\btél|\btéléphone|\bportable|\bnuméro|\bappel|\bteléfono|"
    r"\bmóvil|\bcelular|\bllamar|\bnúmero|\btelefoon|\bmobiel|\bbellen|\btelefono|"
    r"\bcellulare|\bchiamare|\bnumero|\btelemóvel|\bligar)\b|電話|携帯|电话|手机|номер|телефон"
)
_DATE_LIKE = re.compile(
    r"\d{4}[-/. ]\d{1,2}[-/. ]\d{1,2}|\d{1,2}[-/. ]\d{1,2}[-/. ]\d{2,4}|\d{4}\s?[-/]\s?\d{2,4}"
)
_MAX_PHONE_TOKENS = 7
_EXTENSION = re.compile(
    r"[ \t]*,?[ \t]*(?:ext\.?|x|extension|durchwahl|dw\.?|poste|int\.?)[ \t]*\d{1,6}\b", re.I
)
_LOCAL_NANP = re.compile(r"[2-9]\d{2}[-. ]\d{4}")
_NON_DIGIT = re.compile(r"\D")
_TOKEN = re.compile(r"[^ \t\u00a0]+")
_GROUP_SPLIT = re.compile(r"[ \t\u00a0().\-/]+")


def _phone_shape_ok(raw: str, text: str, start: int) -> bool:
    """Whether ``raw`` is formatted like a phone number (see the rules inline)."""
    intl = raw.startswith("+") or (raw.startswith("00") and raw[2:3] not in ("", "0"))
    digits = _NON_DIGIT.sub("", raw)
    if raw.startswith("00") and intl:
        digits = digits[2:]
    n = len(digits)
    if not 7 <= n <= 15 or _DATE_LIKE.fullmatch(raw):
        return False
    seps = set(raw).difference("0123456789+()")
    if "." in seps and ("-" in seps or "/" in seps) or raw.count("/") > 1:
        return False
    if raw.count("(") != raw.count(")"):
        return False
    groups = [g for g in _GROUP_SPLIT.split(raw.lstrip("+")) if g]
    sizes = [len(g) for g in groups]
    context = before(text, start, 30)
    if not raw.startswith("+") and _ID_CONTEXT.search(context[-28:]):
        return False
    if intl:
        if len(groups) == 1:
            return 10 <= n <= 15
        return n >= 8 and max(sizes) <= 10
    if _PHONE_CONTEXT.search(context) and (len(groups) == 1 or min(sizes) >= 2):
        return True
    if raw.startswith("("):  # (415) 555-0132, (02) 9876 5432, (0)20 7946 0958
        return 8 <= n <= 12 and len(groups) >= 2
    if digits[0] == "0" and digits[1:2] != "0":  # national number with trunk prefix
        if len(groups) == 1:
            return n in (10, 11)
        if len(groups) == 2 and n < 9:  # "01304-001" is a Brazilian postcode
            return False
        return 8 <= n <= 12 and 2 <= sizes[0] <= 5 and min(sizes) >= 2 and len(groups) <= 6
    if "." in seps and sizes != [3, 3, 4]:
        return False
    if sizes == [3, 3, 4] or sizes == [1, 3, 3, 4] and digits[0] == "1":  # NANP
        area = groups[-3]
        return area[0] in "23456789" and groups[-2][0] in "23456789"
    if digits[0] in "6789" and sizes in ([5, 5], [3, 2, 2, 2], [2, 4, 4]):  # IN, ES mobiles
        return True
    return sizes == [3, 4, 4] and digits[0] == "1" and digits[1] in "3456789"  # CN mobile


def _phone_in(raw: str, text: str, offset: int) -> list[PiiSpan]:
    """Phone spans in one candidate, trying sub-runs of its space-separated tokens so that a
    number glued to its neighbours ("step 2 415 555 0132") is still found."""
    if _phone_shape_ok(raw, text, offset):
        return [PiiSpan(offset, offset + len(raw), "phone")]
    tokens = list(_TOKEN.finditer(raw))
    if len(tokens) < 2 or len(tokens) > 12:
        return []
    cumulative = [0]
    for t in tokens:
        cumulative.append(cumulative[-1] + len(_NON_DIGIT.sub("", t.group())))
    spans: list[PiiSpan] = []
    i, n = 0, len(tokens)
    while i < n:
        head = tokens[i].group()
        if not (head[0] in "+(0" or len(head) >= 3 and head[:3].isdigit()):
            i += 1  # a phone number starts with "+", "(", a trunk "0" or a 3+ digit group
            continue
        for j in range(min(n, i + _MAX_PHONE_TOKENS), i, -1):
            if (i, j) == (0, n) or not 7 <= cumulative[j] - cumulative[i] <= 17:
                continue
            start, end = tokens[i].start(), tokens[j - 1].end()
            sub = raw[start:end]
            if not (sub[0].isdigit() or sub[0] in "+(") or not sub[-1].isdigit():
                continue
            if _phone_shape_ok(sub, text, offset + start):
                spans.append(PiiSpan(offset + start, offset + end, "phone"))
                i = j - 1
                break
        i += 1
    return spans


def phone_spans(text: str) -> list[PiiSpan]:
    """Phone numbers in international (+44 20 7946 0958, 0049 30 123456, +81-3-1234-5678)
    and common national formats ((415) 555-0132, 01 23 45 67 89, 030 1234567), or any
    7-15 digit number right after a word such as "phone", "call", "Telefon", "tél"."""
    if not has_digit(text) or (hint := _PHONE_HINT.search(text)) is None:
        return []
    spans: list[PiiSpan] = []
    for m in _PHONE_CANDIDATE.finditer(text, max(0, hint.start() - _PHONE_PREFIX)):
        raw = m.group()
        if sum(ch.isdigit() for ch in raw) < 7:
            continue
        if raw[0] != "+" and _after_id_word(text, m.start()):
            continue  # "order number 415 555 0132": no phone hides inside an id
        ext = _EXTENSION.match(text, m.end())
        found = _phone_in(raw, text, m.start())
        if not found and ext and _LOCAL_NANP.fullmatch(raw):
            found = [PiiSpan(m.start(), m.end(), "phone")]  # "555-0132 ext. 4"
        if ext and found and found[-1].end == m.end():
            found[-1] = PiiSpan(found[-1].start, ext.end(), "phone")
        spans += found
    return spans
