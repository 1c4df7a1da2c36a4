"""Secret masking for log lines and error messages, so no credential ever leaves the client readable."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from urllib.parse import quote, quote_plus

MASK = "***"
MIN_SECRET_LEN = 4
MAX_REMEMBERED = 256
SENSITIVE_KEYS = (
    "access_token",
    "refresh_token",
    "id_token",
    "client_secret",
    "api_key",
    "apikey",
    "api_token",
    "token",
    "key",
    "signature",
    "sig",
    "password",
    "secret",
    "assertion",
)
_KEYS = "|".join(sorted(SENSITIVE_KEYS, key=len, reverse=True))
# key=value in query strings and form bodies; the lookbehind keeps "monkey=" untouched.
_PAIR_RE = re.compile(rf"(?i)((?<![A-Za-z0-9_])(?:{_KEYS})=)[^&#\s'\"<>]+")
# "key": "value" in JSON bodies echoed back in error excerpts.
_JSON_RE = re.compile(rf"(?i)(\"(?:{_KEYS})\"\s*:\s*\")[^\"]*(\")")
_SENSITIVE_HEADER_WORDS = ("auth", "key", "token", "secret", "signature", "cookie")
# A credential after Bearer/Basic has a digit, a symbol or a case change inside it;
# "Basic authentication" is left alone.
_SCHEME_RE = re.compile(
    r"\b((?i:Bearer|Basic))\s+(?=[A-Za-z]*(?:[0-9._~+/=-]|[a-z][A-Z]))[A-Za-z0-9._~+/=-]{8,}"
)


class Masker:
    """Replaces known secret values (and their encoded forms) and sensitive query values by ***."""

    def __init__(
        self,
        secrets: Callable[[], Iterable[str]] | None = None,
        *,
        extra: Iterable[str] = (),
    ) -> None:
        self._secrets = secrets
        self._extra = [s for s in extra if s]
        self._recent: dict[str, None] = {}  # insertion-ordered set, bounded by MAX_REMEMBERED

    def add(self, values: Iterable[str]) -> None:
        """Remember more values to mask (an api_key in a query string); the oldest are forgotten first."""
        for value in values:
            if value and value not in self._extra:
                self._recent.pop(value, None)
                self._recent[value] = None
        while len(self._recent) > MAX_REMEMBERED:
            del self._recent[next(iter(self._recent))]

    def values(self) -> list[str]:
        """Every string to replace, longest first so a secret's prefix never leaks its tail."""
        found: set[str] = set()
        raw = [*self._extra, *self._recent, *(self._secrets() if self._secrets else [])]
        for secret in raw:
            if not secret or len(secret) < MIN_SECRET_LEN:
                continue
            found.update({secret, quote(secret, safe=""), quote_plus(secret)})
        return sorted(found, key=len, reverse=True)

    def mask(self, text: object) -> str:
        """The text with every secret, sensitive parameter and auth header value masked."""
        out = str(text)
        for value in self.values():
            out = out.replace(value, MASK)
        out = _PAIR_RE.sub(rf"\1{MASK}", out)
        out = _JSON_RE.sub(rf"\1{MASK}\2", out)
        return _SCHEME_RE.sub(rf"\1 {MASK}", out)


def sensitive_values(mapping: object) -> list[str]:
    """Values of sensitive keys (token, api_key, ...) in a params/form/JSON mapping."""
    if not isinstance(mapping, dict):
        return []
    keys = set(SENSITIVE_KEYS)
    return [str(v) for k, v in mapping.items() if str(k).lower() in keys and v not in (None, "")]


def sensitive_header_values(headers: dict[str, str]) -> list[str]:
    """Values of headers that look like credentials (Authorization, X-Api-Key, Cookie, ...)."""
    return [v for k, v in headers.items() if any(w in k.lower() for w in _SENSITIVE_HEADER_WORDS)]


@contextmanager
def masking_logger(name: str, log_filter: logging.Filter) -> Iterator[None]:
    """Mask another library's log lines (urllib3 logs URLs) while a request runs, when it logs at all."""
    logger = logging.getLogger(name)
    if not logger.isEnabledFor(logging.DEBUG):
        yield
        return
    logger.addFilter(log_filter)
    try:
        yield
    finally:
        logger.removeFilter(log_filter)


class SecretMaskingFilter(logging.Filter):
    """A logging filter that masks the rendered message; attach it to handlers of other loggers."""

    def __init__(self, masker: Masker) -> None:
        super().__init__()
        self.masker = masker

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.masker.mask(record.getMessage())
        record.args = None
        return True
