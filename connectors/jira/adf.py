"""Atlassian Document Format (Jira Cloud API v3 rich text) to plain text, for feedback rows.

Follows https://developer.atlassian.com/cloud/jira/platform/apis/document/structure/ :
blocks (paragraph, heading, lists, code, quote, panel, table, expand, task and decision lists)
become lines separated by blank lines; inline nodes (text, hardBreak, mention, emoji, link
marks, inline and block cards, dates, status lozenges) become their readable form. Unknown
nodes fall back to their text content, and malformed input never raises.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

MAX_DEPTH = 64  # deeper nesting than any real document: the rest is dropped, not recursed into

_INLINE = {
    "text",
    "hardBreak",
    "mention",
    "emoji",
    "inlineCard",
    "date",
    "status",
    "mediaInline",
    "placeholder",
    "inlineExtension",
}
_SKIPPED = {"media", "mediaGroup", "mediaSingle", "mediaInline", "placeholder", "rule"}


def adf_to_text(doc: Any) -> str:
    """Readable text of an ADF document (a plain string passes through; None gives "")."""
    if doc is None:
        return ""
    if isinstance(doc, str):
        return doc
    try:
        text = _block(doc, 0)
    except RecursionError:  # pragma: no cover - MAX_DEPTH keeps recursion far below the limit
        text = ""
    lines = [line.rstrip() for line in text.strip("\n").split("\n")]
    return "\n".join(lines).strip()


def _nodes(node: Any) -> list[Any]:
    content = node.get("content") if isinstance(node, dict) else None
    return content if isinstance(content, list) else []


def _attrs(node: dict[str, Any]) -> dict[str, Any]:
    attrs = node.get("attrs")
    return attrs if isinstance(attrs, dict) else {}


def _kind(node: Any) -> str:
    kind = node.get("type") if isinstance(node, dict) else None
    return kind if isinstance(kind, str) else ""


def _blocks(nodes: list[Any], depth: int, sep: str = "\n\n") -> str:
    """Children rendered one after another: inline runs joined, blocks separated by `sep`."""
    parts: list[str] = []
    run: list[Any] = []
    for node in nodes:
        if _kind(node) in _INLINE or isinstance(node, str):
            run.append(node)
            continue
        if run:
            parts.append(_inline(run, depth))
            run = []
        parts.append(_block(node, depth + 1))
    if run:
        parts.append(_inline(run, depth))
    return sep.join(p for p in parts if p.strip())


def _block(node: Any, depth: int) -> str:
    """One block node (or an unknown node: its content)."""
    if depth > MAX_DEPTH or not isinstance(node, dict):
        return node if isinstance(node, str) else ""
    kind, attrs, children = _kind(node), _attrs(node), _nodes(node)
    if kind in _INLINE:
        return _inline([node], depth)
    if kind in ("paragraph", "heading"):
        return _inline(children, depth)
    if kind == "codeBlock":
        return "".join(_text(c) for c in children)
    if kind in ("bulletList", "orderedList"):
        return _list(kind, attrs, children, depth)
    if kind in ("taskList", "decisionList"):
        items = [_task(c, depth + 1) for c in children]
        return "\n".join(i for i in items if i)
    if kind in ("taskItem", "decisionItem"):
        return _task(node, depth)
    if kind == "blockquote":
        body = _blocks(children, depth)
        return "\n".join(f"> {line}" if line else ">" for line in body.split("\n"))
    if kind == "table":
        rows = [_row(r, depth + 1) for r in children]
        return "\n".join(r for r in rows if r)
    if kind == "tableRow":
        return _row(node, depth)
    if kind in ("expand", "nestedExpand"):
        title = attrs.get("title")
        body = _blocks(children, depth)
        return f"{title}\n{body}" if isinstance(title, str) and title.strip() else body
    if kind == "blockCard" or kind == "embedCard":
        url = attrs.get("url")
        return url if isinstance(url, str) else ""
    if kind in _SKIPPED:
        return ""
    return _blocks(children, depth)  # doc, panel, layouts, extensions, unknown block kinds


def _list(kind: str, attrs: dict[str, Any], items: list[Any], depth: int) -> str:
    start = attrs.get("order")
    number = start if isinstance(start, int) and not isinstance(start, bool) else 1
    lines = []
    for item in items:
        body = _blocks(_nodes(item), depth + 1, sep="\n") if _kind(item) else _block(item, depth)
        if not body.strip():
            continue
        marker = "-" if kind == "bulletList" else f"{number}."
        number += 1
        first, *rest = body.split("\n")
        lines.append(f"{marker} {first}")
        lines.extend(f"  {line}" for line in rest)
    return "\n".join(lines)


def _task(node: Any, depth: int) -> str:
    if depth > MAX_DEPTH:
        return ""
    body = _blocks(_nodes(node), depth, sep="\n")
    if _kind(node) == "taskItem":
        done = _attrs(node).get("state") == "DONE" if isinstance(node, dict) else False
        return f"[{'x' if done else ' '}] {body}" if body else ""
    return body


def _row(row: Any, depth: int) -> str:
    cells = [_blocks(_nodes(cell), depth + 1, sep=" ").replace("\n", " ") for cell in _nodes(row)]
    return " | ".join(c.strip() for c in cells) if any(c.strip() for c in cells) else ""


def _inline(nodes: list[Any], depth: int) -> str:
    out: list[str] = []
    for node in nodes:
        if isinstance(node, str):
            out.append(node)
            continue
        if not isinstance(node, dict):
            continue
        kind, attrs = _kind(node), _attrs(node)
        if kind == "text":
            out.append(_linked(node))
        elif kind == "hardBreak":
            out.append("\n")
        elif kind == "mention":
            name = attrs.get("text") or attrs.get("displayName") or attrs.get("id") or ""
            name = str(name)
            out.append(name if name.startswith("@") else f"@{name}" if name else "")
        elif kind == "emoji":
            shown = attrs.get("shortName") or attrs.get("text") or ""
            out.append(str(shown))
        elif kind == "inlineCard":
            url = attrs.get("url")
            out.append(url if isinstance(url, str) else "")
        elif kind == "date":
            out.append(_date(attrs.get("timestamp")))
        elif kind == "status":
            text = attrs.get("text")
            out.append(f"[{text}]" if isinstance(text, str) and text else "")
        elif kind in _SKIPPED:
            continue
        elif depth < MAX_DEPTH:
            out.append(_blocks(_nodes(node), depth + 1, sep=" "))
    return "".join(out)


def _text(node: Any) -> str:
    text = node.get("text") if isinstance(node, dict) else node
    return text if isinstance(text, str) else ""


def _linked(node: dict[str, Any]) -> str:
    """A text node, with its link target appended when the text does not already show it."""
    text = _text(node)
    marks = node.get("marks")
    for mark in marks if isinstance(marks, list) else []:
        if _kind(mark) == "link":
            href = _attrs(mark).get("href")
            if isinstance(href, str) and href and href not in text:
                return f"{text} ({href})" if text else href
    return text


def _date(timestamp: Any) -> str:
    """ADF dates are epoch milliseconds (as a string) in UTC."""
    try:
        ms = float(timestamp)
        return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d")
    except (TypeError, ValueError, OverflowError, OSError):
        return ""
