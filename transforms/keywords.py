"""Distinctive keywords per theme (class-based TF-IDF, as in BERTopic) and labels built from them."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

_TOKEN = re.compile(r"[a-zA-Z][a-zA-Z0-9+#'-]*[a-zA-Z0-9+#]|[a-zA-Z]{2,}")
_PLACEHOLDER = re.compile(r"\[[A-Z_]+\]")

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are aren't as at be because been before
    being below between both but by can can't cannot could couldn't did didn't do does doesn't doing don't
    down during each even ever every few for from further get gets getting got had hadn't has hasn't have
    haven't having he her here hers herself him himself his how i i'd i'll i'm i've if in into is isn't it
    it's its itself just let's like me more most much must my myself no nor not now of off on once only or
    other ought our ours ourselves out over own really same she should shouldn't so some still such than
    that that's the their theirs them themselves then there there's these they they'd they're they've this
    those through to too under until up us very via was wasn't way we we'd we're we've were weren't what
    what's when where which while who whom why will with won't would wouldn't you you'd you'll you're
    you've your yours yourself yourselves hi hello hey thanks thank please team regards best cheers ok okay
    yes one two also since lot lots thing things something anything would could use using used app
    im ive dont doesnt cant wont get getting go going know want need needs see seems seem make makes made
    new now today yesterday week weeks day days time times every still back""".split()
)


def tokens(text: str) -> list[str]:
    """Lowercased content words, placeholders like [EMAIL] removed."""
    if "[" in text:
        text = _PLACEHOLDER.sub(" ", text)
    if text.isascii():  # lowercasing first finds the same words (the pattern is case-blind)
        words = [w.strip("'-") for w in _TOKEN.findall(text.lower())]
    else:
        words = [w.lower().strip("'-") for w in _TOKEN.findall(text)]
    return [w for w in words if len(w) > 2 and w not in STOPWORDS and not w.isdigit()]


_WORDS = re.compile(r"[^\W\d_]{2,}")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")  # scripts written without spaces


def substantive(text: str) -> bool:
    """Two or more words (or four CJK characters): enough to say something a theme can hold."""
    first = _WORDS.search(text)  # two searches stop at the second word; findall reads it all
    if first is not None and _WORDS.search(text, first.end()) is not None:
        return True
    return len(_CJK.findall(text)) >= 4


def terms(text: str) -> list[str]:
    """Unigrams and bigrams of content words."""
    toks = tokens(text)
    return toks + [f"{a} {b}" for a, b in zip(toks, toks[1:], strict=False)]


def term_counts(docs: Sequence[str]) -> Counter[str]:
    """In how many of the docs each term appears."""
    return Counter(t for d in docs for t in set(terms(d)))


def class_keywords(
    docs_per_class: dict[str, Sequence[str]], top_n: int = 8
) -> dict[str, list[str]]:
    """Top c-TF-IDF terms per class: frequent in the class, rare across classes."""
    return keywords_from_counts(
        {c: term_counts(docs) for c, docs in docs_per_class.items()},
        {c: len(docs) for c, docs in docs_per_class.items()},
        top_n,
    )


def keywords_from_counts(
    counts: dict[str, Counter[str]], n_docs: dict[str, int], top_n: int = 8
) -> dict[str, list[str]]:
    """class_keywords from per-class term counts (`term_counts`) and document counts."""
    total: Counter[str] = Counter()
    for cnt in counts.values():
        total.update(cnt)
    avg_words = sum(sum(c.values()) for c in counts.values()) / max(1, len(counts))
    out: dict[str, list[str]] = {}
    for c, cnt in counts.items():
        docs = max(1, n_docs[c])
        scored = []
        for term, tf in cnt.items():
            if tf < 2 and docs > 3:
                continue
            idf = math.log(1 + avg_words / total[term])
            bonus = 1.15 if " " in term else 1.0
            scored.append((-(tf / docs) * idf * bonus, term))
        scored.sort()
        chosen: list[str] = []
        for _, term in scored:
            if any(term in kept or kept in term for kept in chosen):
                continue  # skip "dashboard" once "slow dashboard" is in, and vice versa
            chosen.append(term)
            if len(chosen) == top_n:
                break
        out[c] = chosen
    return out


def label_from_keywords(keywords: Sequence[str], n: int = 3) -> str:
    return " / ".join(keywords[:n]) if keywords else "(unlabelled)"
