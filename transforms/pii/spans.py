"""The span type shared by all detectors, and small helpers for context checks."""

from __future__ import annotations

import re
from typing import NamedTuple


class PiiSpan(NamedTuple):
    """A detected personal-data span ``text[start:end]`` of one kind."""

    start: int
    end: int
    kind: str


_DIGIT = re.compile(r"\d")


def has_digit(text: str) -> bool:
    """Cheap pre-check so number detectors skip texts without digits."""
    return _DIGIT.search(text) is not None


def before(text: str, start: int, width: int = 30) -> str:
    """The lower-cased ``width`` characters preceding ``start``."""
    return text[max(0, start - width) : start].lower()
