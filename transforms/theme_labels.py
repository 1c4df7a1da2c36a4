"""What a theme says, in its own words: a short phrase label, and quotes.

The label is the phrase its most central members share most (a word n-gram that starts and ends
on a content word, holds one of the theme's keywords and recurs across those members), else its
most central short text, so a product manager reads an ask ("change my pin", "export to csv
fails") instead of a keyword list; the keywords stay beside it. Labels are made unique: a theme
whose phrase another (larger) theme already has takes its next phrase, else its own keyword.
Texts are the redacted ones; placeholders such as [EMAIL] never enter a label.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

import numpy as np

from transforms.keywords import label_from_keywords, tokens

CENTRAL = 40  # most central members a label is read from
MAX_WORDS = 6  # longest phrase
SHORT_TEXT = 10  # words: a central text this short can be the label itself

# words a phrase neither starts nor ends on (articles, pronouns, prepositions, auxiliaries,
# conjunctions, politeness); particles ("log out", "turn off") may end one
FUNCTION_WORDS = frozenset(
    """a an the this that these those my our your his her its their me us you him them it i we
    he she they to of for from with without about into onto at by as than in on off out up down
    over under again and or but so if because when while where how what which who whom why is
    are was were be been being am do does did have has had can could will would should shall
    may might must not no any some all just also very really too please pls thanks thank hi
    hello hey there here then now still even ever since until after before during through across
    via per each every both either such only other another more most much many few lot lots
    something anything one ones yet already i'm i've i'd i'll you're you've it's that's what's
    there's don't doesn't didn't can't cannot won't isn't aren't wasn't let's let between among
    within along around behind beside near toward towards upon like""".split()
)
PARTICLES = frozenset("out off up down".split())

_SEGMENTS = re.compile(r"\[[A-Z_]+\]|[.!?;:()\[\]{}\"\n|/]+|\s[-–—]\s|,\s")
_WORD = re.compile(r"[^\W_][\w'+#&-]*")


def _words(segment: str) -> list[str]:
    return [w.strip("'-") for w in _WORD.findall(segment) if w.strip("'-")]


def phrase_candidates(texts: Sequence[str], keywords: Sequence[str]) -> list[str]:
    """Phrases recurring across `texts` (a theme's most central first), best first: in at least
    two texts (and 15% of them), neither starting nor ending on a function word, holding one of
    the theme's three most distinctive keywords (then those holding any of them); more texts
    first, then more words."""
    best = _phrases(texts, {w for k in keywords[:3] for w in k.split()})
    rest = _phrases(texts, {w for k in keywords for w in k.split()})
    return list(dict.fromkeys(best + rest))


def _phrases(texts: Sequence[str], key_words: set[str]) -> list[str]:
    df: Counter[str] = Counter()
    surface: dict[str, str] = {}
    for text in texts:
        seen: set[str] = set()
        for segment in _SEGMENTS.split(text):
            words = _words(segment)
            low = [w.lower() for w in words]
            for n in range(2, MAX_WORDS + 1):
                for a in range(len(low) - n + 1):
                    gram = low[a : a + n]
                    if gram[0] in FUNCTION_WORDS or gram[-1] in FUNCTION_WORDS - PARTICLES:
                        continue
                    if not key_words.intersection(gram):
                        continue
                    key = " ".join(gram)
                    if key not in seen:
                        seen.add(key)
                        surface.setdefault(key, " ".join(words[a : a + n]))
        df.update(seen)
    need = max(2, int(np.ceil(0.15 * len(texts))))
    ranked = sorted(
        (k for k, c in df.items() if c >= need), key=lambda k: (-df[k], -len(k.split()), k)
    )
    return [surface[_extended(k, ranked, df)] for k in ranked]


def _extended(phrase: str, ranked: list[str], df: Counter[str]) -> str:
    """The longest phrase holding `phrase` that nearly as many texts share (3/4 of its count):
    "hotel with good reviews" rather than "hotel with good"."""
    padded = f" {phrase} "
    longer = [k for k in ranked if padded in f" {k} " and df[k] >= 0.75 * df[phrase]]
    return max(longer, key=lambda k: (len(k.split()), df[k]), default=phrase)


def short_texts(texts: Sequence[str]) -> list[str]:
    """The central texts short enough to be a label themselves (placeholders and end
    punctuation dropped), most central first."""
    out = []
    for text in texts:
        clean = " ".join(re.sub(r"\[[A-Z_]+\]", " ", text).split()).strip(" .!?,;:")
        if clean and len(clean.split()) <= SHORT_TEXT and tokens(clean):
            out.append(clean)
    return out


def label_candidates(central_texts: Sequence[str], keywords: Sequence[str]) -> list[str]:
    """Labels for one theme, best first: shared phrases, then short central texts, then keywords."""
    texts = list(central_texts)[:CENTRAL]
    out = [*phrase_candidates(texts, keywords), *short_texts(texts)]
    out.append(label_from_keywords(keywords))
    return [c[:1].upper() + c[1:] for c in dict.fromkeys(out)]


def unique_labels(
    candidates: dict[str, list[str]], order: Sequence[str], keywords: dict[str, list[str]]
) -> dict[str, str]:
    """One label per id, no two alike (case-blind): in `order` (the larger themes first), each
    takes its first candidate still free, else its first with a keyword of its own added, else
    that with a number."""
    used: set[str] = set()
    out: dict[str, str] = {}
    for tid in order:
        cands = candidates.get(tid) or ["(unlabelled)"]
        label = next((c for c in cands if c.lower() not in used), None)
        if label is None:
            extra = [k for k in keywords.get(tid, []) if k.lower() not in cands[0].lower()]
            label = f"{cands[0]} ({extra[0]})" if extra else cands[0]
            n = 2
            while label.lower() in used:
                label, n = f"{cands[0]} #{n}", n + 1
        used.add(label.lower())
        out[tid] = label
    return out


def central_members(members: np.ndarray, sims: np.ndarray, k: int = CENTRAL) -> np.ndarray:
    """The k members most similar to the centroid, most similar first (`sims`: the members')."""
    if members.size <= k:
        return members[np.argsort(-sims, kind="stable")]
    top = np.argpartition(-sims, k - 1)[:k]
    return members[top[np.argsort(-sims[top], kind="stable")]]


def representatives(
    members: np.ndarray, sims: np.ndarray, texts: list[str], k: int = 3
) -> list[int]:
    """Up to k members closest to the centroid with distinct texts of 15 characters or more
    (quotes); `sims`: the members' similarities to the centroid."""
    chosen: list[int] = []
    seen: set[str] = set()
    for idx in members[np.argsort(-sims, kind="stable")]:
        key = texts[idx].strip().lower()[:120]
        if key in seen or len(texts[idx].strip()) < 15:
            continue
        seen.add(key)
        chosen.append(int(idx))
        if len(chosen) == k:
            break
    return chosen
