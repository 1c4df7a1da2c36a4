"""What survey connectors share: scored answers, joined open-text answers, the survey definition.

A survey response is many answers; Chorus keeps one row per response: the open-text answers
joined (with their question titles when there are several), the first rating-type answer as the
normalised rating, the NPS answer as nps, choice labels as tags.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from connectors.common.base import (
    FetchedBatch,
    ParseError,
    normalised_rating,
    parsed_nps,
    scale_label,
)
from connectors.common.rest import RestConnector


@dataclass
class SurveyAnswers:
    """Answers of one response, collected question by question, then turned into row fields."""

    texts: list[tuple[str, str]] = field(default_factory=list)  # (question title, answer)
    tags: list[str] = field(default_factory=list)
    rating: tuple[float, float, str] | None = None  # (normalised, raw, scale label)
    nps: int | None = None

    def add_text(self, title: str | None, answer: Any) -> None:
        """An open-text answer; blank ones are skipped."""
        if isinstance(answer, str) and answer.strip():
            self.texts.append((title or "", answer.strip()))

    def add_tag(self, tag: Any) -> None:
        """A choice label or flag as a tag, once."""
        text = str(tag).strip() if tag is not None else ""
        if text and text not in self.tags:
            self.tags.append(text)

    def add_rating(self, raw: Any, lo: float, hi: float, what: str) -> None:
        """A score on a lo-hi scale; the first rating question of a response wins."""
        if self.rating is not None or raw is None:
            return
        try:
            rating, value = normalised_rating(raw, (lo, hi))
        except ParseError as exc:
            raise ParseError(f"{what}: {exc}") from None
        if rating is not None and value is not None:
            self.rating = (rating, value, scale_label((lo, hi)))

    def add_nps(self, raw: Any, what: str) -> None:
        """A 0-10 likelihood-to-recommend answer; the first one wins."""
        if self.nps is not None:
            return
        try:
            self.nps = parsed_nps(raw)
        except ParseError as exc:
            raise ParseError(f"{what}: {exc}") from None

    def text(self) -> str:
        """One answer as is; several as "title: answer" paragraphs."""
        if len(self.texts) == 1:
            return self.texts[0][1]
        return "\n\n".join(f"{t}: {a}" if t else a for t, a in self.texts)

    def title(self) -> str | None:
        """The question title when exactly one open-text answer was given."""
        return (self.texts[0][0] or None) if len(self.texts) == 1 else None

    def fields(self) -> dict[str, Any]:
        """Canonical row fields: title, text, rating, rating_raw, rating_scale, nps, tags."""
        rating, raw, scale = self.rating if self.rating else (None, None, None)
        return {
            "title": self.title(),
            "text": self.text(),
            "rating": rating,
            "rating_raw": raw,
            "rating_scale": scale,
            "nps": self.nps,
            "tags": list(self.tags),
        }


class DefinedSurveyConnector(RestConnector):
    """A survey whose answers only make sense with its definition (question titles, scales).

    The definition at DEFINITION_PATH ("{option}" placeholders filled) is read once per run and
    its summary (`summarize`) attached to every item under DEFINITION_KEY, so parsing stays pure.
    """

    DEFINITION_PATH: ClassVar[str]
    DEFINITION_KEY: ClassVar[str]

    def summarize(self, definition: Any) -> dict[str, Any]:
        """What parsing needs from the definition."""
        raise NotImplementedError

    def fetch(self, state: dict[str, Any]) -> Iterator[FetchedBatch]:
        """The responses, each carrying the definition's summary."""
        with self.client() as client:
            definition = client.get_json(self.filled(self.DEFINITION_PATH, quoted=True))
        summary = self.summarize(definition)
        batches = super().fetch(state)
        try:
            for batch in batches:
                items = [{**item, self.DEFINITION_KEY: summary} for item in batch.items]
                yield FetchedBatch(items=items, state=batch.state, meta=batch.meta)
        finally:
            batches.close()  # type: ignore[attr-defined]
