"""File drop: CSV, JSON Lines and folders of Markdown/text notes, with a column mapping in config.

Incremental by content: a file is read again only when its bytes changed (sha256 in state).
"""

from __future__ import annotations

import csv
import glob
import hashlib
import io
import json
import os
from collections.abc import Iterator
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, field_validator

from connectors.common.base import (
    Connector,
    FetchedBatch,
    ParseError,
    normalised_rating,
    parse_timestamp,
    parsed_bool,
    parsed_nps,
    parsed_tags,
    scale_label,
)
from schemas.feedback import CANONICAL_INPUT_NAMES

MAPPABLE = tuple(n for n in CANONICAL_INPUT_NAMES if n not in ("source", "source_kind"))
_NOTE_FORMATS = ("markdown", "text")


class FileDropOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    path: str
    format: Literal["csv", "jsonl", "markdown", "text"]
    columns: dict[str, str] = {}
    rating_scale: tuple[float, float] = (1.0, 5.0)
    encoding: str = "utf-8"
    batch_size: int = 5000

    @field_validator("columns")
    @classmethod
    def _known_columns(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(MAPPABLE))
        if unknown:
            raise ValueError(
                f"unknown canonical column(s) {unknown}; expected among {list(MAPPABLE)}"
            )
        return value

    @field_validator("rating_scale")
    @classmethod
    def _ordered(cls, value: tuple[float, float]) -> tuple[float, float]:
        if value[0] >= value[1]:
            raise ValueError(f"rating_scale must be [low, high] with low < high, got {list(value)}")
        return value


def _front_matter(text: str) -> tuple[dict[str, Any], str]:
    """(front matter mapping, body) of a Markdown document with optional YAML front matter."""
    if text.startswith("---"):
        end = text.find("\n---", 3)
        if end != -1:
            meta = yaml.safe_load(text[3:end]) or {}
            if not isinstance(meta, dict):
                raise ValueError("front matter is not a mapping")
            return meta, text[end + 4 :].lstrip("\n")
    return {}, text


def _dotted(record: dict[str, Any], path: str) -> Any:
    node: Any = record
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


class FileDropConnector(Connector):
    type = "file_drop"
    source_kind = "notes"
    docs_url = "https://www.rfc-editor.org/rfc/rfc4180 (CSV), https://jsonlines.org (JSON Lines), https://spec.commonmark.org (Markdown)"
    description = "CSV, JSON Lines, or a folder of Markdown/text notes, mapped to canonical columns"
    Options = FileDropOptions

    def _files(self) -> list[tuple[str, str]]:
        pattern = self._resolve_path(self.options.path)
        root = pattern.split("*", 1)[0]
        root = root if os.path.isdir(root) else os.path.dirname(root)
        paths = sorted(p for p in glob.glob(pattern, recursive=True) if os.path.isfile(p))
        return [(p, os.path.relpath(p, root) if root else p) for p in paths]

    def _items(self, data: bytes, rel: str) -> list[dict[str, Any]]:
        fmt = self.options.format
        try:
            text = data.decode(self.options.encoding).removeprefix("\ufeff")  # Excel's BOM
        except UnicodeDecodeError as exc:
            # keep the file as one malformed item so the problem is quarantined, not lost
            bad = data.decode(self.options.encoding, errors="replace")
            return [
                {
                    "_file": rel,
                    "_line": 0,
                    "_malformed": bad[:10000],
                    "_error": f"not {self.options.encoding}: {exc}",
                }
            ]
        if fmt == "csv":
            reader = csv.DictReader(io.StringIO(text, newline=""))
            return [{"_file": rel, "_line": i + 2, **row} for i, row in enumerate(reader)]
        if fmt == "jsonl":
            items = []
            for i, line in enumerate(text.splitlines(), start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                    if not isinstance(record, dict):
                        raise ValueError(f"expected a JSON object, got {type(record).__name__}")
                    items.append({"_file": rel, "_line": i, **record})
                except ValueError as exc:
                    items.append(
                        {
                            "_file": rel,
                            "_line": i,
                            "_malformed": line[:10000],
                            "_error": f"invalid JSON: {exc}",
                        }
                    )
            return items
        if fmt == "markdown":
            try:
                meta, body = _front_matter(text)
            except (yaml.YAMLError, ValueError) as exc:
                return [
                    {
                        "_file": rel,
                        "_line": 1,
                        "_malformed": text[:10000],
                        "_error": f"bad front matter: {exc}",
                    }
                ]
            return [
                {
                    "_file": rel,
                    "_line": 1,
                    "front_matter": json.loads(json.dumps(meta, default=str)),
                    "body": body,
                }
            ]
        return [{"_file": rel, "_line": 1, "front_matter": {}, "body": text}]

    def fetch(self, state: dict[str, Any]) -> Iterator[FetchedBatch]:
        seen: dict[str, str] = dict(state.get("files", {}))
        for path, rel in self._files():
            with open(path, "rb") as fh:
                data = fh.read()
            digest = hashlib.sha256(data).hexdigest()
            if seen.get(rel) == digest:
                continue
            items = self._items(data, rel)
            size = max(1, self.options.batch_size)
            chunks = [items[i : i + size] for i in range(0, len(items), size)] or [[]]
            for n, chunk in enumerate(chunks):
                last = n == len(chunks) - 1
                new_state = {"files": {**seen, rel: digest}} if last else {"files": dict(seen)}
                yield FetchedBatch(
                    items=chunk, state=new_state, meta={"file": rel, "sha256": digest, "chunk": n}
                )
            seen[rel] = digest

    def parse(self, item: dict[str, Any]) -> list[dict[str, Any]]:
        where = f"{item.get('_file')}:{item.get('_line')}"
        if "_malformed" in item:
            raise ParseError(f"{where}: {item['_error']}")
        notes = self.options.format in _NOTE_FORMATS
        record = item.get("front_matter", {}) if notes else item
        cols = self.options.columns

        def get(name: str) -> Any:
            return _dotted(record, cols[name]) if name in cols else None

        source_id = get("source_id")
        if notes and source_id in (None, ""):
            source_id = item["_file"]
        if source_id in (None, ""):
            raise ParseError(
                f"{where}: source_id (column {cols.get('source_id')!r}) is missing or empty"
            )
        title, text = get("title"), get("text")
        if notes:
            text = item.get("body", "")
            if title is None:
                first = next((ln for ln in text.splitlines() if ln.strip()), "")
                title = first.lstrip("# ").strip() if first.startswith("#") else None
        created_raw = get("created_at")
        if created_raw in (None, ""):
            raise ParseError(
                f"{where}: created_at (column {cols.get('created_at')!r}) is missing or empty"
            )
        created = parse_timestamp(created_raw, what=f"{where}: created_at")
        updated_raw = get("updated_at")
        updated = (
            parse_timestamp(updated_raw, what=f"{where}: updated_at")
            if updated_raw not in (None, "")
            else created
        )
        scale = self.options.rating_scale
        try:
            rating, rating_raw = normalised_rating(get("rating"), scale)
            nps = parsed_nps(get("nps"))
            internal = parsed_bool(get("is_internal"), what="is_internal")
        except ParseError as exc:
            raise ParseError(f"{where}: {exc}") from None
        if text is not None and not isinstance(text, str):
            raise ParseError(f"{where}: text has type {type(text).__name__}, expected a string")
        return [
            {
                "source": self.name,
                "source_kind": self.kind,
                "source_id": str(source_id),
                "thread_id": _str_or_none(get("thread_id")),
                "account_id": _str_or_none(get("account_id")),
                "customer_id": _str_or_none(get("customer_id")),
                "created_at": created,
                "updated_at": updated,
                "title": _str_or_none(title),
                "text": text or "",
                "rating": rating,
                "rating_raw": rating_raw,
                "rating_scale": scale_label(scale) if rating is not None else None,
                "nps": nps,
                "tags": parsed_tags(get("tags")),
                "url": _str_or_none(get("url")),
                "app_version": _str_or_none(get("app_version")),
                "is_internal": bool(internal) if internal is not None else False,
            }
        ]


def _str_or_none(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)
