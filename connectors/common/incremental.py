"""Incremental strategies for REST endpoints: how a committed cursor becomes request params.

A strategy turns the cursor committed by the previous run into first-page params, folds each
landed page into the pending cursor, drops records the cursor already covers, and says up to
when child records (a ticket's comments) were already fetched.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from connectors.common.base import parse_timestamp
from connectors.common.http.client import Page
from connectors.common.http.paginators import Selector, select


class Incremental:
    """How a committed cursor becomes first-page params, and how pages move it forward."""

    def first_params(self, cursor: Any, start: int) -> dict[str, Any]:
        """Query params of the first page for a committed cursor (None: first run from `start`)."""
        return {}

    def advance(self, cursor: Any, page: Page) -> Any:
        """The pending cursor once this page's items have landed."""
        return cursor

    def is_new(self, cursor: Any, record: dict[str, Any]) -> bool:
        """False for a record the committed cursor already covers (inclusive time filters)."""
        return True

    def since(self, cursor: Any) -> float | None:
        """Epoch seconds up to which child records were already fetched, or None."""
        return None


def epoch_of(value: Any) -> float:
    """Epoch seconds of a timestamp in any form parse_timestamp reads."""
    return parse_timestamp(value).timestamp()


@dataclass(frozen=True)
class CursorExport(Incremental):
    """A stream cursor in the body (Zendesk's cursor export): the last page's cursor is the next start."""

    cursor_param: str = "cursor"
    next_cursor: Selector = "after_cursor"
    start_param: str = "start_time"
    time_field: str = "updated_at"  # its maximum bounds what children already covered

    def first_params(self, cursor: Any, start: int) -> dict[str, Any]:
        if cursor and cursor.get("cursor"):
            return {self.cursor_param: cursor["cursor"]}
        return {self.start_param: start}

    def advance(self, cursor: Any, page: Page) -> Any:
        cursor = dict(cursor or {})
        found = select(page.response.json(), self.next_cursor)
        if found:
            cursor["cursor"] = found
        times = [epoch_of(r[self.time_field]) for r in page.records if r.get(self.time_field)]
        if times:
            cursor["since"] = max([cursor.get("since") or 0.0, *times])
        return cursor

    def since(self, cursor: Any) -> float | None:
        return (cursor or {}).get("since")


@dataclass(frozen=True)
class Watermark(Incremental):
    """Highest value of a record field plus the ids at it; the request starts `lookback_s` earlier.

    The server's filter may be inclusive or on another field (created vs updated): records the
    watermark already covers are dropped here, so a boundary record arrives exactly once.
    """

    field: str = "updated_at"
    param: str = "start_time"
    id_field: str = "id"
    lookback_s: float = 0.0
    to_param: Callable[[float], Any] = int

    def first_params(self, cursor: Any, start: int) -> dict[str, Any]:
        value = cursor["value"] - self.lookback_s if cursor else start
        return {self.param: self.to_param(max(0.0, value))}

    def advance(self, cursor: Any, page: Page) -> Any:
        value, ids = (cursor["value"], set(cursor["ids"])) if cursor else (None, set())
        for record in page.records:
            t = epoch_of(record[self.field])
            if value is None or t > value:
                value, ids = t, {record[self.id_field]}
            elif t == value:
                ids.add(record[self.id_field])
        return cursor if value is None else {"value": value, "ids": sorted(ids, key=str)}

    def is_new(self, cursor: Any, record: dict[str, Any]) -> bool:
        if not cursor:
            return True
        t = epoch_of(record[self.field])
        return t > cursor["value"] or (
            t == cursor["value"] and record[self.id_field] not in cursor["ids"]
        )

    def since(self, cursor: Any) -> float | None:
        return cursor["value"] if cursor else None
