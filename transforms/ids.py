"""Stable identifiers: feedback ids, text hashes and keyed pseudonyms for people and accounts."""

from __future__ import annotations

import hashlib
import hmac


def feedback_id(source: str, source_id: str) -> str:
    """A stable id for one item of one source (same inputs, same id, across runs and machines)."""
    return hashlib.sha256(f"{source}\x1f{source_id}".encode()).hexdigest()[:24]


def text_hash(text: str) -> str:
    """The key of the embedding cache: identical (redacted) texts share one embedding."""
    return hashlib.sha256(text.encode("utf-8", errors="surrogatepass")).hexdigest()[:32]


def pseudonym(value: str | None, key: bytes, prefix: str) -> str | None:
    """A keyed HMAC-SHA256 pseudonym: joinable across datasets, not reversible without the key."""
    if value is None or value == "":
        return None
    # hmac.digest: the one-shot C path, several times faster than hmac.new(...).hexdigest()
    digest = hmac.digest(key, value.strip().lower().encode(), "sha256").hex()[:20]
    return f"{prefix}_{digest}"


def email_domain(value: str | None) -> str | None:
    if not value or "@" not in value:
        return None
    return value.rsplit("@", 1)[1].strip().lower()


def content_text(title: str | None, text: str, source_kind: str | None = None) -> str:
    """What an item says, for embedding and keywords: title and text, except a survey's title.

    A survey row's title is the question asked, the same for every answer: embedding it would
    group answers by question instead of by what customers said.
    """
    if not title or source_kind == "survey" or title in text:
        return text
    return f"{title}\n{text}"
