"""E-mail addresses (plain, quoted local parts, "[at]"/"dot" spellings) and secrets: URLs whose
query, fragment, userinfo or path carries a credential, and bare JWTs, bearer tokens and
vendor-prefixed API keys (all of kind ``url_token``, placeholder "[URL]")."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

from transforms.pii.spans import PiiSpan

# The lookbehind lets a local part start only at the beginning of a run, so scanning stays
# linear on long runs of word characters without "@".
_EMAIL = re.compile(
    r"(?<![\w.%+'-])[\w%+'-](?:[\w.%+'-]{0,63}[\w%+'-])?"
    r"@(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+[^\W\d_]{2,24}(?![\w-])"
)
# "jane.doe [at] example [dot] com", "jane(at)example.com"
_EMAIL_OBFUSCATED = re.compile(
    r"(?<![\w.+-])[\w.+-]{1,64}\s?[\[(]\s?(?:at|AT)\s?[\])]\s?[\w-]{1,63}"
    r"(?:(?:\s?[\[(]\s?(?:dot|DOT)\s?[\])]\s?|\.)[\w-]{1,63}){1,4}(?![\w-])"
)

# RFC 5321 quoted local parts: "john doe"@example.com
_EMAIL_QUOTED = re.compile(
    r'"[^"\s@<>][^"\n@<>]{0,62}"@(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+[^\W\d_]{2,24}(?![\w-])'
)
# "jane dot doe at example dot com": spelled out, with at least one "dot" after "at"
_EMAIL_SPELLED = re.compile(
    r"(?<![\w.+-])[\w+-]{1,64}(?:\s(?:dot|DOT)\s[\w+-]{1,64}){0,3}\s(?:at|AT)\s"
    r"[\w-]{1,63}(?:\s(?:dot|DOT)\s[\w-]{1,63}){0,3}\s(?:dot|DOT)\s[^\W\d_]{2,24}\b"
)
_SPELLED_DOT = re.compile(r"\sdot\s[^\W\d_]{2,24}\b", re.I)
_SCP_TARGET = re.compile(r":[\w~/.-]")  # git@github.com:org/repo.git is a remote, not a mailbox
_OBFUSCATED_AT = re.compile(r"[\[(]\s?at\s?[\])]", re.I)


def email_spans(text: str) -> list[PiiSpan]:
    """E-mail addresses, including the "[at]"/"(dot)" obfuscations."""
    spans: list[PiiSpan] = []
    if "@" in text:
        spans += [
            PiiSpan(m.start(), m.end(), "email")
            for m in _EMAIL.finditer(text)
            if not _SCP_TARGET.match(text, m.end())
        ]
        if '"@' in text:
            spans += [PiiSpan(m.start(), m.end(), "email") for m in _EMAIL_QUOTED.finditer(text)]
    # Fast path: _OBFUSCATED_AT and _EMAIL_OBFUSCATED both need a "[" or "(" (not letters,
    # so case-insensitivity cannot stand in another character).
    if ("(" in text or "[" in text) and _OBFUSCATED_AT.search(text):
        spans += [PiiSpan(m.start(), m.end(), "email") for m in _EMAIL_OBFUSCATED.finditer(text)]
    # Fast path: _EMAIL_SPELLED (case-sensitive) needs "dot" or "DOT"; without one it finds
    # nothing whatever _SPELLED_DOT says.
    if ("dot" in text or "DOT" in text) and _SPELLED_DOT.search(text):
        spans += [PiiSpan(m.start(), m.end(), "email") for m in _EMAIL_SPELLED.finditer(text)]
    return spans


_URL = re.compile(r"(?:\b(?:https?|ftps?|wss?)://|\bwww\.)[^\s<>\"'`\u00a0]{1,4000}", re.I)
# Names whose value is a credential whatever it looks like.
_SECRET_PARAM = re.compile(
    r"(?:access_?token|refresh_?token|id_?token|auth_?token|token|api[_-]?key|apikey|"
    r"secret|client_?secret|sig|signature|password|passwort|passwd|pwd|pass|authorization|"
    r"jwt|credential|x-amz-signature|x-amz-credential|x-amz-security-token|awsaccesskeyid|"
    r"x-goog-signature|x-goog-credential|[\w-]*_token|[\w-]*_secret|"
    r"(?:api|secret|private|access|auth|client|app|license|signing|master|account|"
    r"subscription)[_-]?key)",
    re.I,
)
# Names that carry a credential only when the value looks like one ("code=404" is an error).
_WEAK_PARAM = re.compile(
    r"(?:code|key|auth|session|session_?id|sessionid|sid|otp|hash|[\w-]*[_-]key|"
    r"[\w-]*[_-]code|t|k|s|h|tk|ticket)",
    re.I,
)
# Pagination and sync cursors are opaque but not secret.
_PUBLIC_PARAM = re.compile(r"(?:page|next|prev|continuation|sync|cursor|csrf_?)[_-]?token", re.I)
_AUTH_WORDS = (
    r"(?:reset|password|passwort|mot-de-passe|contrasena|token|magic|invite|invitation|"
    r"verify|verification|confirm|activate|activation|unsubscribe|login|signin|sign-in|"
    r"auth|sso|onboard|join|share|download)"
)
_SECRET_PATH = re.compile(
    r"hooks\.slack\.com/services/|discord(?:app)?\.com/api/webhooks/|"
    r"eyJ[\w-]{8,}\.[\w-]{8,}|"  # a JWT
    rf"/[\w-]*{_AUTH_WORDS}[\w-]*/(?:[\w-]+/)?(?=[A-Za-z_-]*\d)(?=[\d_-]*[A-Za-z])"
    r"[A-Za-z0-9_-]{16,}",
    re.I,
)
_AUTH_PATH = re.compile(_AUTH_WORDS, re.I)
_TRAILING = ".,;:!?*'\""


def _url_end(url: str) -> int:
    """Length of ``url`` without trailing punctuation and unbalanced closing brackets."""
    end = len(url)
    while end:
        ch = url[end - 1]
        if ch in _TRAILING:
            end -= 1
        elif ch in ")]}":
            opener = {")": "(", "]": "[", "}": "{"}[ch]
            if url.count(opener, 0, end) < url.count(ch, 0, end):
                end -= 1
            else:
                break
        else:
            break
    return end


def _token_like(value: str, min_length: int) -> bool:
    """Long enough and mixing letters with digits (or very long): random, not a word."""
    if len(value) < min_length:
        return False
    has_digit = any(ch.isdigit() for ch in value)
    has_alpha = any(ch.isalpha() for ch in value)
    return has_digit and has_alpha or len(value) >= 24 and " " not in value


def _secret_param(name: str, value: str, path: str) -> bool:
    if not value or _PUBLIC_PARAM.fullmatch(name):
        return False
    if _SECRET_PARAM.fullmatch(name):
        return True
    if not _WEAK_PARAM.fullmatch(name):
        return False
    if len(name) <= 2:  # "?t=...": only on a sign-in, reset or invite link
        return bool(_AUTH_PATH.search(path)) and _token_like(value, 16)
    return _token_like(value, 8)


def _carries_secret(url: str) -> bool:
    if _SECRET_PATH.search(url):
        return True
    try:
        parts = urlsplit(url if "://" in url else "http://" + url)
        netloc = parts.netloc
        if "@" in netloc and ":" in netloc.rsplit("@", 1)[0]:
            return True
        for chunk in (parts.query, parts.fragment):
            if "=" in chunk:
                for name, value in parse_qsl(chunk, keep_blank_values=False):
                    if _secret_param(name.strip(), value.strip(), parts.path):
                        return True
    except ValueError:
        return False
    return False


# Credentials outside URLs: JWTs, "Bearer ..." headers, API keys with a vendor prefix.
_BARE_SECRET = re.compile(
    r"(?<![\w-])(?:eyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]{8,}"
    r"|(?<=[Bb]earer )[A-Za-z0-9._~+/-]{20,}=*"
    r"|(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{16,}"
    r"|gh[pousr]_[A-Za-z0-9]{30,}|github_pat_\w{30,}|xox[abprs]-[A-Za-z0-9-]{10,}"
    r"|AKIA[0-9A-Z]{16}|AIza[\w-]{30,})(?![\w-])"
)
_BARE_HINT = re.compile(r"eyJ|earer |_live_|_test_|gh[pousr]_|github_pat_|xox|AKIA|AIza")


def url_token_spans(text: str) -> list[PiiSpan]:
    """Whole URLs whose query, fragment, userinfo or path carries a credential, and bare
    credentials (JWTs, bearer tokens, prefixed API keys) anywhere in the text."""
    spans: list[PiiSpan] = []
    if "://" in text or "www." in text.lower():
        spans += _secret_urls(text)
    # Fast path (before _BARE_HINT): each alternative of _BARE_SECRET (case-sensitive) holds
    # one of these literally: "eyJ", "earer " (the look-behind), "_" ("sk_live_",
    # "ghp_", "github_pat_"), "xox", "AKIA", "AIza".
    if not _bare_secret_possible(text):
        return spans
    if _BARE_HINT.search(text):  # after the URLs: a URL that carries a JWT goes whole
        spans += [PiiSpan(m.start(), m.end(), "url_token") for m in _BARE_SECRET.finditer(text)]
    return spans


def _bare_secret_possible(text: str) -> bool:
    """Necessary for ``_BARE_SECRET`` to match in ``text`` (see ``url_token_spans``)."""
    return (
        "_" in text
        or "eyJ" in text
        or "earer " in text
        or "xox" in text
        or "AKIA" in text
        or "AIza" in text
    )


def _secret_urls(text: str) -> list[PiiSpan]:
    spans: list[PiiSpan] = []
    for m in _URL.finditer(text):
        url = m.group()[: _url_end(m.group())]
        if url and _carries_secret(url):
            spans.append(PiiSpan(m.start(), m.start() + len(url), "url_token"))
    return spans
