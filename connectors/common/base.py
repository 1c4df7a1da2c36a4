"""What every connector is: a declaration (type, kind, docs) plus fetch and pure parsing."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError


class ParseError(ValueError):
    """An item that cannot become a canonical row; it is quarantined with this reason."""


@dataclass(frozen=True)
class FetchedBatch:
    """Items exactly as received, and the cursor to commit once they have landed."""

    items: list[dict[str, Any]]
    state: dict[str, Any]
    meta: dict[str, Any] = field(default_factory=dict)


class Connector:
    """Base class: subclasses declare `type`, `source_kind`, `docs_url` and an `Options` model."""

    type: ClassVar[str]
    source_kind: ClassVar[str]
    docs_url: ClassVar[str]
    description: ClassVar[str] = ""

    class Options(BaseModel):
        model_config = ConfigDict(extra="forbid", frozen=True)

    def __init__(self, source: Any, *, resolve_path: Any = None) -> None:
        self.source = source
        self.name: str = source.name
        self.kind: str = source.source_kind or self.source_kind
        self.options = self.Options.model_validate(source.extra())
        self._resolve_path = resolve_path or (lambda p: p)

    @classmethod
    def option_errors(cls, source: Any) -> list[str]:
        """Problems with this source's type-specific keys, one line each."""
        try:
            cls.Options.model_validate(source.extra())
        except ValidationError as err:
            out = []
            for e in err.errors():
                where = ".".join(str(p) for p in e["loc"])
                if e["type"] == "extra_forbidden":
                    known = ", ".join(cls.Options.model_fields)
                    out.append(f"{where}: unknown key for type '{cls.type}'; known keys: {known}")
                elif e["type"] == "missing":
                    out.append(f"{where}: missing; required for type '{cls.type}'")
                else:
                    out.append(f"{where}: got {e.get('input')!r}; expected: {e['msg']}")
            return out
        return []

    def fetch(self, state: dict[str, Any]) -> Iterator[FetchedBatch]:
        raise NotImplementedError

    def parse(self, item: dict[str, Any]) -> list[dict[str, Any]]:
        """Canonical input rows (see schemas.feedback.CANONICAL_INPUT_FIELDS) for one item."""
        raise NotImplementedError


def batch_id_for(source: str, items: list[dict[str, Any]], salt: str = "") -> str:
    """A content-derived batch id: landing the same items twice lands one batch."""
    digest = hashlib.sha256()
    digest.update(f"{source}\x1f{salt}\x1f".encode())
    digest.update(json.dumps(items, sort_keys=True, default=str).encode())
    return digest.hexdigest()[:20]


_TS_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%d/%m/%Y %H:%M",
    "%m/%d/%Y %H:%M",
    "%d.%m.%Y",
)


def parse_timestamp(value: Any, *, what: str = "timestamp") -> datetime:
    """A UTC datetime from ISO 8601, epoch seconds/ms, or common date formats; naive means UTC."""
    if value is None or value == "":
        raise ParseError(f"{what} is missing")
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        secs = float(value) / (1000.0 if value > 1e11 else 1.0)
        dt = datetime.fromtimestamp(secs, tz=UTC)
    elif isinstance(value, str):
        text = value.strip()
        try:
            dt = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            dt = None
            for fmt in _TS_FORMATS:
                try:
                    dt = datetime.strptime(text, fmt)
                    break
                except ValueError:
                    continue
            if dt is None:
                try:
                    from email.utils import parsedate_to_datetime

                    dt = parsedate_to_datetime(text)
                except (TypeError, ValueError, IndexError):
                    raise ParseError(f"{what} {value!r} is not a recognised date/time") from None
    else:
        raise ParseError(f"{what} has type {type(value).__name__}, expected a date/time string")
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def normalised_rating(raw: Any, scale: tuple[float, float]) -> tuple[float | None, float | None]:
    """(rating in [0, 1], raw rating) for a score on the given scale; (None, None) when absent."""
    if raw is None or raw == "":
        return None, None
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ParseError(f"rating {raw!r} is not a number") from None
    lo, hi = scale
    if not lo <= value <= hi:
        raise ParseError(f"rating {value:g} is outside its scale {lo:g}-{hi:g}")
    return (value - lo) / (hi - lo), value


def parsed_nps(raw: Any) -> int | None:
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ParseError(f"nps {raw!r} is not a number") from None
    if not (0 <= value <= 10 and value == int(value)):
        raise ParseError(f"nps {raw!r} is not an integer from 0 to 10")
    return int(value)


_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f", ""}


def parsed_bool(raw: Any, *, what: str = "flag") -> bool | None:
    if raw is None or isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ParseError(f"{what} {raw!r} is not a boolean")


def parsed_tags(raw: Any) -> list[str]:
    if raw is None or raw == "":
        return []
    if isinstance(raw, list):
        return [str(t).strip() for t in raw if str(t).strip()]
    return [t.strip() for t in str(raw).replace(";", ",").split(",") if t.strip()]


def scale_label(scale: tuple[float, float]) -> str:
    lo, hi = scale
    return f"{lo:g}-{hi:g}"
