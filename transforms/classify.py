"""Feedback type and sentiment, offline: from the rating or NPS where given, else from the words."""

from __future__ import annotations

import re
from collections.abc import Sequence

_WORD = re.compile(r"[a-z']+")
_CLAUSE = re.compile(r"[,.;:!?()\n]+|\bbut\b")

_TYPE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "bug",
        re.compile(
            r"\b(crash\w*|bug|error|errors|broken|fails?|failing|failed|doesn'?t work|does not work|not working|won'?t (load|open|sync|save)|stuck|freez\w*|500|timeout|times out|exception|glitch\w*|blank screen|can'?t (log ?in|login|sign in|export|save|open))\b"
        ),
    ),
    (
        "feature_request",
        re.compile(
            r"\b(please add|would (be|love) (great|nice|to see)|wish|feature request|could you (add|support)|can you add|support for|ability to|option to|it would help|we need|missing feature|add (a|an|support)|i'?d like|request)\b"
        ),
    ),
    (
        "question",
        re.compile(r"(^\s*(how|what|why|where|when|can i|is there|does|do you|is it)\b|\?\s*$)"),
    ),
    (
        "complaint",
        re.compile(
            r"\b(too expensive|expensive|overpriced|slow|frustrat\w*|annoy\w*|terrible|awful|worst|unacceptable|disappoint\w*|cancel\w*|spam|confus\w*|useless|waste)\b"
        ),
    ),
    (
        "praise",
        re.compile(
            r"\b(love|great|awesome|excellent|amazing|fantastic|thank you|thanks|helpful|perfect|best|well done|nice)\b"
        ),
    ),
)

_POS = frozenset(
    "love loved great awesome excellent amazing fantastic helpful perfect best nice good easy fast smooth thanks thank intuitive reliable happy impressed recommend wonderful".split()
)
_NEG = frozenset(
    "hate broken crash crashes crashed bug bugs error errors slow terrible awful worst useless frustrating frustrated annoying annoyed disappointed expensive overpriced confusing fails failed failing unacceptable stuck spam problem issue issues wrong lost missing cannot can't doesn't won't impossible bad poor horrible".split()
)
_NEGATORS = frozenset("not no never hardly isn't wasn't don't".split())


def feedback_type(text: str) -> str:
    """bug, feature_request, question, complaint, praise or other (first rule that matches)."""
    low = text.lower()
    for name, pattern in _TYPE_PATTERNS:
        if pattern.search(low):
            return name
    return "other"


def text_sentiment_score(text: str) -> float:
    """A lexicon score in [-1, 1] with simple negation handling (English)."""
    score = 0
    hits = 0
    for clause in _CLAUSE.split(text.lower()):  # a negation reaches no further than its clause
        words = _WORD.findall(clause)
        for i, w in enumerate(words):
            sign = 1 if w in _POS else -1 if w in _NEG else 0
            if sign == 0:
                continue
            if any(p in _NEGATORS for p in words[max(0, i - 3) : i]):
                sign = -sign
            score += sign
            hits += 1
    return 0.0 if hits == 0 else max(-1.0, min(1.0, score / max(hits, 2)))


def sentiment(text: str, rating: float | None = None, nps: int | None = None) -> str:
    """negative, neutral or positive: the customer's own score wins over the words."""
    if rating is not None:
        return "positive" if rating >= 0.75 else "negative" if rating <= 0.4 else "neutral"
    if nps is not None:
        return "positive" if nps >= 9 else "negative" if nps <= 6 else "neutral"
    s = text_sentiment_score(text)
    return "positive" if s > 0.2 else "negative" if s < -0.2 else "neutral"


def feedback_types(texts: Sequence[str]) -> list[str]:
    return [feedback_type(t) for t in texts]


def sentiments(
    texts: Sequence[str], ratings: Sequence[float | None], npss: Sequence[int | None]
) -> list[str]:
    return [sentiment(t, r, n) for t, r, n in zip(texts, ratings, npss, strict=True)]
