"""Seeded, invented fixture material shared by the vendor sandboxes: a clock, people, feedback text.

Nothing here is real: names are made up, emails use reserved example domains.
"""

from __future__ import annotations

import base64
import json
import random
from datetime import UTC, datetime
from typing import Any

EPOCH_START = int(datetime(2026, 1, 5, 9, 0, tzinfo=UTC).timestamp())

FIRST = ("Ada", "Bo", "Cleo", "Dev", "Edda", "Finn", "Gus", "Hana", "Ivo", "Jun", "Kai", "Lena")
LAST = ("Arden", "Brook", "Calder", "Dune", "Ember", "Frost", "Glen", "Heath", "Isle", "Juniper")
COMPANIES = ("Acme Widgets", "Globex Labs", "Initech Mobile", "Umbrella Foods", "Hooli Travel")
SUBJECTS = (
    "CSV export fails on large reports",
    "Dashboard takes ages to load",
    "Please add SSO with Okta",
    "Charged twice this month",
    "App crashes when sharing a file",
    "Dark mode for the web app?",
    "Cannot invite new team members",
    "Search ignores archived projects",
)
BODIES = (
    "Since the last update the export spins forever and then shows an error.",
    "Every morning the main dashboard needs about thirty seconds before it shows anything.",
    "Our security team requires single sign-on before we can roll out to everyone.",
    "The invoice shows the same subscription twice. Could you refund one of them?",
    "Tapping share on any file closes the app immediately on my phone.",
    "Working late with the bright theme is hard on the eyes; a dark theme would help.",
    "The invite button does nothing and no email ever arrives.",
    "Looking for an old project returns nothing unless I unarchive it first.",
)
REPLIES = (
    "Thanks for reporting this, we are looking into it.",
    "Could you send us the time it happened and your browser version?",
    "It happened again today around lunch time.",
    "A fix is rolling out this week; please let us know if it persists.",
    "That worked, thank you!",
)
INTERNAL_NOTES = (
    "Internal: likely the same bug as the export timeout, linking to the engineering issue.",
    "Internal: customer is on the enterprise plan, prioritise.",
)
RATING_COMMENTS = ("Quick and helpful, thanks!", "Took too long to get an answer.", "")


class Clock:
    """A fake wall clock that only moves forward when asked, so fixture times are repeatable."""

    def __init__(self, start: int = EPOCH_START, step: int = 37 * 60) -> None:
        self.now = start
        self.step = step

    def tick(self, steps: int = 1) -> int:
        """Advance and return the new time (epoch seconds)."""
        self.now += self.step * steps
        return self.now


def iso(epoch: int) -> str:
    """Epoch seconds as the ISO 8601 UTC form most vendor APIs use (2026-01-05T09:00:00Z)."""
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def epoch(value: str) -> int:
    """ISO 8601 UTC back to epoch seconds."""
    return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())


def person(rng: random.Random, n: int) -> dict[str, str]:
    """An invented person with an example.com address."""
    first, last = rng.choice(FIRST), rng.choice(LAST)
    return {"name": f"{first} {last}", "email": f"{first.lower()}.{last.lower()}{n}@example.com"}


def encode_cursor(position: Any) -> str:
    """An opaque cursor for a position (vendors' cursors are opaque too)."""
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> Any:
    """The position inside a cursor; ValueError when it is not one of ours."""
    try:
        return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError) as exc:
        raise ValueError(f"invalid cursor {cursor!r}") from exc


def public(record: dict[str, Any]) -> dict[str, Any]:
    """A record without the sandbox's private bookkeeping keys (those starting with "_")."""
    return {k: v for k, v in record.items() if not k.startswith("_")}
