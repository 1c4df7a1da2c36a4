"""Newest-first lists (Apple's review RSS, App Store Connect lists): page from the top, stop at the cursor.

Neither list can be filtered by time; both are sorted newest first. A run pages from the top
and stops at the first page holding a record older than the committed cursor (the newest time
the last run saw plus the ids at that time), so nothing already seen is fetched twice and a
record sharing the boundary second still arrives exactly once.

The generic machinery builds a paginator without knowing the committed cursor, so
NewestFirstConnector binds it per run (its `bind_cursor`); this belongs in
connectors/common/incremental.py once a second vendor needs it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import requests

from connectors.common.base import ParseError
from connectors.common.http.client import Page
from connectors.common.http.paginators import NextRequest, Paginator, Selector, select
from connectors.common.incremental import Incremental, epoch_of
from connectors.common.rest import Endpoint, RestConnector


@dataclass(frozen=True)
class NewestFirst(Incremental):
    """Cursor {"value": newest epoch seen, "ids": ids at that time} over a newest-first list."""

    time_field: Selector
    id_field: Selector = "id"
    floor: float = 0.0  # a first run's `start_date`: older records are neither kept nor paged to

    def time_of(self, record: Any) -> float | None:
        """The record's epoch seconds, or None when unreadable (its parser quarantines it)."""
        try:
            return epoch_of(select(record, self.time_field))
        except (ParseError, TypeError, ValueError, OverflowError):
            return None

    def id_of(self, record: Any) -> str:
        return str(select(record, self.id_field))

    def advance(self, cursor: Any, page: Page) -> Any:
        value, ids = (cursor["value"], set(cursor["ids"])) if cursor else (None, set())
        for record in page.records:
            t = self.time_of(record)
            if t is None:
                continue
            if value is None or t > value:
                value, ids = t, {self.id_of(record)}
            elif t == value:
                ids.add(self.id_of(record))
        return cursor if value is None else {"value": value, "ids": sorted(ids)}

    def is_new(self, cursor: Any, record: dict[str, Any]) -> bool:
        t = self.time_of(record)
        if t is None:
            return True
        if cursor:
            return t > cursor["value"] or (
                t == cursor["value"] and self.id_of(record) not in cursor["ids"]
            )
        return t >= self.floor

    def older(self, cursor: Any, record: Any) -> bool:
        """True for a record strictly older than anything still wanted: paging can stop here."""
        t = self.time_of(record)
        return t is not None and t < (cursor["value"] if cursor else self.floor)

    def since(self, cursor: Any) -> float | None:
        return cursor["value"] if cursor else None


class StopAtCursor(Paginator):
    """Wraps a newest-first paginator: no next page once a page reaches records already seen."""

    def __init__(
        self,
        inner: Paginator,
        reached: Callable[[Any], bool],
        on_exhausted: Callable[[dict[str, Any], requests.Response], None] | None = None,
    ) -> None:
        super().__init__()
        self.inner = inner
        self.reached = reached
        self.on_exhausted = on_exhausted
        self._stopped = False

    def first_request(self, params: dict[str, Any]) -> dict[str, Any]:
        self._stopped = False
        return self.inner.first_request(params)

    def resume(self, token: dict[str, Any]) -> NextRequest:
        self._stopped = False
        return self.inner.resume(token)

    def next_request(
        self, response: requests.Response, records: list[Any], params: dict[str, Any]
    ) -> NextRequest:
        if any(self.reached(r) for r in records):
            self._stopped = True
            return None
        nxt = self.inner.next_request(response, records, params)
        if nxt is None and self.on_exhausted is not None:
            self.on_exhausted(params, response)
        return nxt

    def token(self) -> dict[str, Any] | None:
        return None if self._stopped else self.inner.token()


class NewestFirstConnector(RestConnector):
    """A RestConnector whose NewestFirst endpoints stop paging at the committed cursor."""

    def bind_cursor(self, endpoint: Endpoint, committed: Any) -> Endpoint:
        """The endpoint with its paginator stopping at `committed` (or at `start_date`)."""
        inc = endpoint.incremental
        if not isinstance(inc, NewestFirst):
            return endpoint
        if committed is None and self.start_epoch():
            inc = replace(inc, floor=float(self.start_epoch()))
        older = partial(inc.older, committed)
        exhausted = partial(self.exhausted, endpoint, committed)

        def paginator() -> Paginator:
            return StopAtCursor(endpoint.paginator(), older, exhausted)

        return replace(endpoint, incremental=inc, paginator=paginator)

    def exhausted(
        self, endpoint: Endpoint, committed: Any, params: dict[str, Any], response: Any
    ) -> None:
        """Called when a list ended before reaching the cursor; subclasses warn of gaps."""
