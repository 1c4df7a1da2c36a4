"""Atlassian Document Format to text: every documented node kind, and junk that must not crash."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.jira.adf import adf_to_text


def text(value: str, *marks: dict[str, Any]) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "text", "text": value}
    return {**node, "marks": list(marks)} if marks else node


def para(*content: Any) -> dict[str, Any]:
    return {"type": "paragraph", "content": list(content)}


def doc(*content: Any) -> dict[str, Any]:
    return {"type": "doc", "version": 1, "content": list(content)}


def item(*content: Any) -> dict[str, Any]:
    return {"type": "listItem", "content": list(content)}


def cell(kind: str, value: str) -> dict[str, Any]:
    return {"type": kind, "attrs": {}, "content": [para(text(value))]}


def test_paragraphs_headings_breaks_mentions_links_and_emoji():
    link = {"type": "link", "attrs": {"href": "https://docs.example.com/sync"}}
    mention = {"type": "mention", "attrs": {"id": "5f00abc", "text": "@Ada Arden"}}
    bare = {"type": "mention", "attrs": {"id": "5f00abd", "text": "Bo Brook"}}
    emoji = {"type": "emoji", "attrs": {"shortName": ":tada:", "id": "1f389", "text": "🎉"}}
    got = adf_to_text(
        doc(
            {"type": "heading", "attrs": {"level": 2}, "content": [text("Sync is slow")]},
            para(
                text("Hi "), mention, text(" and "), bare, text(", see "), text("the guide", link)
            ),
            para(text("first line"), {"type": "hardBreak"}, text("second "), emoji),
            para(text("https://docs.example.com/sync", link)),
        )
    )
    assert got == (
        "Sync is slow\n\n"
        "Hi @Ada Arden and @Bo Brook, see the guide (https://docs.example.com/sync)\n\n"
        "first line\nsecond :tada:\n\n"
        "https://docs.example.com/sync"
    )


def test_nested_bullet_and_ordered_lists():
    nested = {"type": "bulletList", "content": [item(para(text("on iOS only")))]}
    got = adf_to_text(
        doc(
            {
                "type": "orderedList",
                "attrs": {"order": 3},
                "content": [item(para(text("open the app")), nested), item(para(text("share")))],
            },
            {"type": "bulletList", "content": [item(para(text("a"))), item(para(text("b")))]},
        )
    )
    assert got == "3. open the app\n  - on iOS only\n4. share\n\n- a\n- b"


def test_code_block_table_panel_quote_cards_dates_and_status():
    table = {
        "type": "table",
        "attrs": {"isNumberColumnEnabled": False, "layout": "default"},
        "content": [
            {
                "type": "tableRow",
                "content": [cell("tableHeader", "OS"), cell("tableHeader", "Build")],
            },
            {
                "type": "tableRow",
                "content": [cell("tableCell", "iOS 17"), cell("tableCell", "2.3.0")],
            },
        ],
    }
    got = adf_to_text(
        doc(
            {
                "type": "codeBlock",
                "attrs": {"language": "kotlin"},
                "content": [text("val x = 1\nx++")],
            },
            table,
            {
                "type": "panel",
                "attrs": {"panelType": "warning"},
                "content": [para(text("Careful"))],
            },
            {"type": "blockquote", "content": [para(text("quoted reply"))]},
            {"type": "blockCard", "attrs": {"url": "https://app.example.com/board/1"}},
            para(
                {"type": "inlineCard", "attrs": {"url": "https://app.example.com/i/2"}},
                text(" due "),
                {"type": "date", "attrs": {"timestamp": "1767225600000"}},
                text(" "),
                {"type": "status", "attrs": {"text": "IN REVIEW", "color": "blue"}},
            ),
            {"type": "rule"},
            {
                "type": "mediaSingle",
                "content": [{"type": "media", "attrs": {"id": "f1", "type": "file"}}],
            },
        )
    )
    assert got == (
        "val x = 1\nx++\n\n"
        "OS | Build\niOS 17 | 2.3.0\n\n"
        "Careful\n\n"
        "> quoted reply\n\n"
        "https://app.example.com/board/1\n\n"
        "https://app.example.com/i/2 due 2026-01-01 [IN REVIEW]"
    )


def test_tasks_expand_and_unknown_nodes_keep_their_text():
    got = adf_to_text(
        doc(
            {
                "type": "taskList",
                "attrs": {"localId": "t"},
                "content": [
                    {"type": "taskItem", "attrs": {"state": "DONE"}, "content": [text("repro")]},
                    {"type": "taskItem", "attrs": {"state": "TODO"}, "content": [text("fix")]},
                ],
            },
            {
                "type": "expand",
                "attrs": {"title": "Logs"},
                "content": [para(text("E/Sync: timeout"))],
            },
            {"type": "shinyNewBlock", "content": [para(text("future block"))]},
            para({"type": "shinyNewInline", "content": [text("future inline")]}),
        )
    )
    assert got == "[x] repro\n[ ] fix\n\nLogs\nE/Sync: timeout\n\nfuture block\n\nfuture inline"


def test_strings_none_and_empty_documents():
    assert adf_to_text(None) == ""
    assert adf_to_text("plain v2 description") == "plain v2 description"
    assert adf_to_text(doc()) == ""
    assert adf_to_text({"type": "doc", "content": None}) == ""
    assert adf_to_text(doc(para(text("  padded  ")))) == "padded"


def test_malformed_nodes_are_skipped_not_fatal():
    junk = doc(
        None,
        42,
        "stray",
        {"type": 7, "content": "not a list"},
        para({"type": "text", "text": None}, {"type": "mention", "attrs": "x"}, text("kept")),
        {"type": "orderedList", "attrs": {"order": "two"}, "content": [item(para(text("one")))]},
        {"type": "date", "attrs": {"timestamp": "soon"}},
    )
    assert adf_to_text(junk) == "stray\n\nkept\n\n1. one"


def test_absurdly_deep_nesting_does_not_recurse_forever():
    node: dict[str, Any] = text("bottom")
    for _ in range(5000):
        node = {"type": "blockquote", "content": [node]}
    assert isinstance(adf_to_text(doc(node)), str)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                ["type", "content", "attrs", "text", "marks", "href", "order", "state"]
            ),
            children,
            max_size=4,
        )
    ),
    max_leaves=30,
)
node_types = st.sampled_from(
    [
        "doc",
        "paragraph",
        "text",
        "bulletList",
        "orderedList",
        "listItem",
        "table",
        "tableRow",
        "tableCell",
        "mention",
        "emoji",
        "link",
        "date",
        "taskItem",
        "expand",
        "codeBlock",
        "x",
    ]
)


@st.composite
def adf_like(draw: st.DrawFn, depth: int = 0) -> Any:
    if depth > 4 or draw(st.booleans()):
        return draw(json_values)
    node = {"type": draw(node_types), "attrs": draw(json_values), "text": draw(json_values)}
    node["content"] = [draw(adf_like(depth + 1)) for _ in range(draw(st.integers(0, 3)))]
    node["marks"] = draw(
        st.lists(st.fixed_dictionaries({"type": node_types, "attrs": json_values}), max_size=2)
    )
    return node


@settings(max_examples=300, deadline=None)
@given(adf_like())
def test_never_crashes_on_arbitrary_json(value):
    assert isinstance(adf_to_text(value), str)
