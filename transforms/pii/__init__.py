"""PII detectors: each returns candidate spans; ``pii_spans`` resolves overlaps by priority."""

from __future__ import annotations

from bisect import bisect_left

from transforms.pii.addresses import address_spans
from transforms.pii.names import name_spans
from transforms.pii.numbers import card_spans, iban_spans, ip_spans, phone_spans
from transforms.pii.spans import PiiSpan, has_digit
from transforms.pii.web import email_spans, url_token_spans

__all__ = ["KINDS", "PLACEHOLDERS", "PiiSpan", "pii_spans"]

PLACEHOLDERS: dict[str, str] = {
    "email": "[EMAIL]",
    "phone": "[PHONE]",
    "card": "[CARD]",
    "iban": "[IBAN]",
    "ip": "[IP]",
    "url_token": "[URL]",
    "address": "[ADDRESS]",
    "name": "[NAME]",
}
KINDS: tuple[str, ...] = tuple(PLACEHOLDERS)

# Highest priority first: a secret URL swallows the e-mail inside it, an IBAN or card wins
# over the phone-looking digits inside it, an address over a name.
_DETECTORS = (
    url_token_spans,
    email_spans,
    iban_spans,
    card_spans,
    ip_spans,
    phone_spans,
    address_spans,
    name_spans,
)


def _ipv6_spans(text: str) -> list[PiiSpan]:
    """``ip_spans`` of a text without a digit: only IPv6 ("fe80::abcd:ef01"), which needs
    two ":"; IPv4 and "::1" need digits."""
    return ip_spans(text) if text.count(":") >= 2 else []


# Fast path: iban_spans, card_spans, phone_spans and address_spans return [] at once for a
# text without a digit (their first statement), so ``pii_spans`` tests for a digit once and
# then runs only the others, ip_spans as ``_ipv6_spans``.
_WITHOUT_DIGIT = tuple(
    _ipv6_spans if d is ip_spans else d
    for d in _DETECTORS
    if d not in (iban_spans, card_spans, phone_spans, address_spans)
)


def pii_spans(text: str) -> list[PiiSpan]:
    """Non-overlapping PII spans of ``text``, sorted by start. Never raises."""
    if not text:
        return []
    taken: list[PiiSpan] = []  # kept sorted by start, never overlapping
    try:
        detectors = _DETECTORS if has_digit(text) else _WITHOUT_DIGIT
    except Exception:  # not a str: run all, each fails (and is skipped) as before
        detectors = _DETECTORS
    for detector in detectors:
        try:
            found = detector(text)
        except Exception:  # a detector bug must not stop the pipeline; others still run
            continue
        for span in found:
            if span.end <= span.start:
                continue
            i = bisect_left(taken, span)
            if i and taken[i - 1].end > span.start:
                continue
            if i < len(taken) and taken[i].start < span.end:
                continue
            taken.insert(i, span)
    return taken
