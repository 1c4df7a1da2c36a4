"""Compose feedback texts from the phrase catalog: fill placeholders, vary length and tone,
add typos, e-mail HTML, signatures, quoted replies and (sometimes) personal data."""

from __future__ import annotations

import html
import random
import re
from datetime import datetime, timedelta

from flows.devtools.demo import catalog as cat
from flows.devtools.demo.people import Account, Person

_PLACEHOLDER = re.compile(r"\{(\w+)\}")
SUPPORT_REPLIES = [
    "Thanks for reaching out! Could you send us a screenshot and the time this happened?",
    "We have forwarded this to our engineering team and will get back to you.",
    "Could you try clearing your browser cache and let us know if it persists?",
    "Thanks for your patience. Can you confirm which workspace is affected?",
]
REVIEW_TITLES = {
    "neg": ["Disappointed", "Needs work", "Frustrating", "Was good until the update", "Ugh",
            "Not happy", "Fix this please", "Disappointing update"],
    "req": ["Feature request", "Almost perfect", "Missing one thing", "Good but...", "Suggestion"],
    "pos": ["Love it", "Great app", "Five stars", "Really useful", "Best in class"],
}  # fmt: skip
I18N_TITLES = {
    "de": {"neg": "Schade", "req": "Wunsch", "pos": "Super"},
    "fr": {"neg": "Décevant", "req": "Suggestion", "pos": "Génial"},
    "es": {"neg": "Decepcionante", "req": "Sugerencia", "pos": "Genial"},
}
BACKGROUND = [
    "Some background: our team of {n} people has used Chorus for about two years, mostly for "
    "weekly revenue and pipeline reporting.",
    "We first noticed this on {weekday} and it has happened several times since.",
    "I already searched your help center and the community forum but found nothing that matches.",
    "Let me know if you need access to our workspace, I'm happy to grant support access.",
    "This is the second time I'm writing about this, the last ticket was closed without a fix.",
    "Our admin is on holiday this week, so I'm reaching out directly.",
]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]


def fill(template: str, rng: random.Random, ctx: dict[str, str]) -> str:
    """Replace {placeholders} with context values or fresh random ones."""

    def value(match: re.Match[str]) -> str:
        key = match.group(1)
        if key in ctx:
            return ctx[key]
        makers = {
            "secs": lambda: str(rng.choice([15, 20, 30, 40, 45, 60, 90])),
            "n": lambda: str(rng.choice([3, 5, 8, 10, 12, 15, 20, 25, 40, 50])),
            "browser": lambda: rng.choice(cat.BROWSERS),
            "device": lambda: rng.choice(cat.DEVICES + cat.ANDROID),
            "os": lambda: rng.choice(cat.IOS_VERSIONS + ["Android 15", "Android 16"]),
            "idp": lambda: rng.choice(cat.IDPS),
            "version": lambda: rng.choice(["5.3.0", "5.3.1", "5.2.1"]),
            "weekday": lambda: rng.choice(WEEKDAYS),
            "competitor": lambda: rng.choice(cat.COMPETITORS),
            "country": lambda: rng.choice(cat.EU_COUNTRIES),
            "quarter": lambda: rng.choice(["Q1", "Q2", "January", "March"]),
        }
        return makers[key]() if key in makers else match.group(0)

    return _PLACEHOLDER.sub(value, template)


def pick(rng: random.Random, theme: str, kind: str) -> str:
    """A random fragment of `kind` for `theme` (empty if the theme has none)."""
    options = cat.PHRASES[theme].get(kind) or []
    return rng.choice(options) if options else ""


def sentences(rng: random.Random, theme: str, size: str, ctx: dict[str, str]) -> list[str]:
    """A problem statement plus, by size, details, an impact and an ask."""
    out = [pick(rng, theme, "problems")]
    if size in ("medium", "long"):
        out.append(pick(rng, theme, "details"))
        if rng.random() < 0.5:
            out.append(pick(rng, theme, rng.choice(["impacts", "asks"])))
    if size == "long":
        details = cat.PHRASES[theme].get("details") or []
        extra = [d for d in details if d not in out]
        if extra and rng.random() < 0.6:
            out.append(rng.choice(extra))
        out += [pick(rng, theme, "impacts"), pick(rng, theme, "asks")]
    return [fill(s, rng, ctx) for s in dict.fromkeys(out) if s]


def typos(rng: random.Random, text: str, rate: float = 0.08) -> str:
    """Casual tone: swapped or dropped letters, missing apostrophes, lower case."""
    words = text.split(" ")
    for i, word in enumerate(words):
        if len(word) > 4 and word.isalpha() and rng.random() < rate:
            j = rng.randrange(1, len(word) - 2)
            if rng.random() < 0.5:
                word = word[:j] + word[j + 1] + word[j] + word[j + 2 :]
            else:
                word = word[:j] + word[j + 1 :]
            words[i] = word
    out = " ".join(words).replace("n't", "nt") if rng.random() < 0.5 else " ".join(words)
    return out.lower() if rng.random() < 0.3 else out


def pii_sentence(rng: random.Random, kind: str, account: Account | None) -> str:
    """One sentence carrying personal data of `kind` (email, phone, card, iban)."""
    first, last = rng.choice(cat.FIRST_NAMES).lower(), rng.choice(cat.LAST_NAMES).lower()
    domain = account.domain if account and rng.random() < 0.6 else rng.choice(
        ["example.com", "example.org", "mail.example"])  # fmt: skip
    values = {
        "email": f"{first}.{last}{rng.choice(['', '', '84', '1990'])}@{domain}",
        "phone": rng.choice(cat.PII_PHONES),
        "card": rng.choice(cat.PII_CARDS),
        "iban": rng.choice(cat.PII_IBANS),
    }
    return rng.choice(cat.PII_SENTENCES[kind]).format(**values)


def maybe_pii(rng: random.Random, kind: str, account: Account | None, rate: float) -> list[str]:
    """PII kinds to plant in one item (usually none)."""
    if rng.random() >= rate:
        return []
    kinds = list(cat.PII_KIND_SHARE)
    weights = [cat.PII_KIND_SHARE[k] for k in kinds]
    if kind in ("review", "beta"):
        weights = [w if k in ("email", "phone") else 0 for k, w in zip(kinds, weights, strict=True)]
    chosen = rng.choices(kinds, weights)[0]
    if chosen in ("email", "phone") and rng.random() < 0.15:
        return sorted({"email", "phone"})
    return [chosen]


def signature(rng: random.Random, person: Person, company: str) -> tuple[str, list[str]]:
    """An e-mail signature; sometimes with a phone number (returned as PII kinds)."""
    lines = [rng.choice(["Best regards,", "Kind regards,", "Thanks,", "Regards,"]), person.name,
             f"{person.title} | {company}"]  # fmt: skip
    if rng.random() < 0.12:
        lines.append(rng.choice(cat.PII_PHONES))
        return "\n".join(lines), ["phone"]
    return "\n".join(lines), []


def quoted_reply(rng: random.Random, when: datetime, first_name: str) -> list[str]:
    """The header and '> ' lines of a quoted earlier support reply."""
    sent = when - timedelta(days=rng.randint(1, 5), minutes=rng.randint(0, 600))
    stamp = f"{sent:%a}, {sent.day} {sent:%b %Y} at {sent:%H:%M}"
    header = f"On {stamp}, Chorus Support <support@{cat.COMPANY_DOMAIN}> wrote:"
    body = rng.choice(SUPPORT_REPLIES)
    return [header, f"> Hi {first_name},", ">", f"> {body}", ">",
            "> Best,", "> The Chorus Support Team"]  # fmt: skip


def to_html(paragraphs: list[str], quote: list[str] | None) -> str:
    """E-mail HTML: <p> per paragraph, <br> for line breaks, a blockquote for the quote."""
    parts = ["<p>" + html.escape(p, quote=False).replace("\n", "<br>") + "</p>" for p in paragraphs]
    if quote:
        lines = [html.escape(q.lstrip("> ").rstrip(">"), quote=False) for q in quote[1:]]
        parts.append(
            f'<div class="gmail_quote"><p>{html.escape(quote[0], quote=False)}</p>'
            f"<blockquote>{'<br>'.join(lines)}</blockquote></div>"
        )
    return "\n".join(parts)


def size_for(rng: random.Random, kind: str) -> str:
    weights = {
        "support": (0.2, 0.5, 0.3),
        "review": (0.5, 0.37, 0.13),
        "survey": (0.4, 0.45, 0.15),
        "beta": (0.45, 0.45, 0.1),
        "internal": (0.5, 0.4, 0.1),
        "notes": (0.0, 0.5, 0.5),
    }[kind]
    return rng.choices(("short", "medium", "long"), weights)[0]


def rating_for(rng: random.Random, sentiment: str, scale: str = "stars") -> int:
    """A star rating (1-5) or an NPS answer (0-10) that fits the sentiment."""
    if scale == "nps":
        table = {"neg": (range(0, 8), (3, 2, 3, 5, 6, 9, 10, 8)),
                 "req": (range(5, 11), (1, 3, 5, 8, 6, 2)),
                 "pos": (range(7, 11), (1, 3, 8, 10)),
                 "any": (range(0, 11), (1, 1, 1, 1, 1, 2, 3, 4, 5, 4, 3))}  # fmt: skip
    else:
        table = {"neg": (range(1, 5), (45, 30, 20, 5)), "req": (range(2, 6), (10, 30, 50, 10)),
                 "pos": (range(4, 6), (2, 8)), "any": (range(1, 6), (2, 1, 2, 3, 4))}  # fmt: skip
    values, weights = table[sentiment]
    return rng.choices(list(values), weights)[0]
