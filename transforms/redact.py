"""Personal-data redaction for feedback text, run before anything is stored or embedded.

``redacted(text)`` replaces e-mail addresses, phone numbers, payment cards, IBANs, IP
addresses, URLs and tokens that carry a secret, postal addresses and names in greetings and
sign-offs by placeholders such as "[EMAIL]". Detection is regex candidates plus validation
(Luhn and issuer prefixes for cards, per-country length and mod-97 for IBANs, octet ranges,
digit counts and grouping for phones, token-looking values for URL parameters), so versions,
dates, order numbers, prices, error codes and UUIDs stay. What each detector covers and
leaves out is in its module under ``transforms.pii``; recall and precision per kind on the
labeled sets: ``python -m tests.pii_eval`` (``tests.pii_eval.pii_report()``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from transforms.pii import PLACEHOLDERS, PiiSpan, pii_spans

__all__ = ["PLACEHOLDERS", "PiiSpan", "Redaction", "pii_spans", "redacted", "redacted_texts"]

_MAX_PASSES = 3


@dataclass(frozen=True)
class Redaction:
    """Redacted text and the kind of each replaced span, in order of appearance."""

    text: str
    kinds: tuple[str, ...]


def _replaced(text: str, spans: list[PiiSpan]) -> str:
    parts: list[str] = []
    last = 0
    for span in spans:
        parts.append(text[last : span.start])
        parts.append(PLACEHOLDERS[span.kind])
        last = span.end
    parts.append(text[last:])
    return "".join(parts)


def redacted(text: str) -> Redaction:
    """``text`` with personal data replaced by placeholders. Total and idempotent: a
    replacement that makes a new match possible (rare) is handled by another pass."""
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    kinds: list[str] = []
    for _ in range(_MAX_PASSES):
        spans = pii_spans(text)
        if not spans:
            break
        kinds.extend(span.kind for span in spans)
        text = _replaced(text, spans)
    return Redaction(text=text, kinds=tuple(kinds))


def redacted_texts(texts: Iterable[str]) -> list[Redaction]:
    """``redacted`` of each item."""
    return [redacted(t) for t in texts]
