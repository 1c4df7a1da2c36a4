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


# Letters from rarest to most frequent in English feedback (approximate; only speed
# depends on it).
_RARE_FIRST = "zqxjkvbpygfwmucldrhsnioate"


def substring_finder(words: tuple[str, ...]) -> re.Pattern[str]:
    """A pattern whose ``search(s)`` finds a match if and only if one of ``words`` (non-empty)
    is a substring of ``s``, case-sensitively: a faster ``any(w in s for w in words)``.

    Each word ``w`` becomes ``w[j]``, a look-behind for ``w[: j + 1]`` and ``w[j + 1 :]``,
    which matches exactly where ``w`` occurs (at ``w[j]``); ``j`` is the position of its
    rarest letter, so the regex engine, which skips ahead to the first characters of the
    alternatives, stops at few positions."""

    def rarity(ch: str) -> int:
        return _RARE_FIRST.find(ch)  # -1 (rarest) for anything not in the list

    parts = []
    for word in words:
        if not word:
            raise ValueError("empty word")
        j = min(range(len(word)), key=lambda i: rarity(word[i]))
        behind = f"(?<={re.escape(word[: j + 1])})" if j else ""
        parts.append(re.escape(word[j]) + behind + re.escape(word[j + 1 :]))
    return re.compile("|".join(parts))
