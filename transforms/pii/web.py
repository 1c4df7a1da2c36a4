"""E-mail addresses and URLs that carry a secret (token, key, signature, credentials)."""

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
    if _OBFUSCATED_AT.search(text):
        spans += [PiiSpan(m.start(), m.end(), "email") for m in _EMAIL_OBFUSCATED.finditer(text)]
    return spans


_URL = re.compile(r"(?:\b(?:https?|ftps?|wss?)://|\bwww\.)[^\s<>\"'`\u00a0]{1,4000}", re.I)
_SECRET_PARAM = re.compile(
    r"(?:access_?token|refresh_?token|id_?token|auth_?token|token|api[_-]?key|apikey|key|"
    r"secret|client_?secret|sig|signature|password|passwd|pwd|pass|auth|authorization|"
    r"session|session_?id|sessionid|sid|code|otp|jwt|credential|x-amz-signature|"
    r"x-amz-credential|x-amz-security-token|awsaccesskeyid|x-goog-signature|"
    r"[\w-]*_token|(?:api|secret|private|access|auth|client|app|license|signing|master|"
    r"account|subscription)[_-]?key|[\w-]*_secret)",
    re.I,
)
# Pagination and sync cursors are opaque but not secret.
_PUBLIC_PARAM = re.compile(r"(?:page|next|prev|continuation|sync|cursor|csrf_?)[_-]?token", re.I)
_SECRET_PATH = re.compile(
    r"hooks\.slack\.com/services/|discord(?:app)?\.com/api/webhooks/|"
    r"eyJ[\w-]{8,}\.[\w-]{8,}|"  # a JWT
    r"/(?:reset|password|token|magic|invite|verify|confirm|activate|unsubscribe)[\w-]*/"
    r"[A-Za-z0-9_-]{20,}",
    re.I,
)
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
                    name = name.strip()
                    if (
                        value
                        and _SECRET_PARAM.fullmatch(name)
                        and not _PUBLIC_PARAM.fullmatch(name)
                    ):
                        return True
    except ValueError:
        return False
    return False


def url_token_spans(text: str) -> list[PiiSpan]:
    """Whole URLs whose query, fragment, userinfo or path carries a credential."""
    if "://" not in text and "www." not in text.lower():
        return []
    spans: list[PiiSpan] = []
    for m in _URL.finditer(text):
        url = m.group()[: _url_end(m.group())]
        if url and _carries_secret(url):
            spans.append(PiiSpan(m.start(), m.start() + len(url), "url_token"))
    return spans
