from __future__ import annotations

from pathlib import Path

import pytest

from connectors.common.base import ParseError
from connectors.common.registry import build_connector
from flows.runtime.config import load_config


def _connector(cfg_path: Path, name: str):
    cfg = load_config(cfg_path)
    return build_connector(cfg.source(name), resolve_path=cfg.resolve)


def test_csv_items_parse_to_canonical_rows_and_bad_rows_raise(small_project: Path) -> None:
    conn = _connector(small_project, "tickets")
    batches = list(conn.fetch({}))
    assert len(batches) == 1 and len(batches[0].items) == 4
    row = conn.parse(batches[0].items[0])[0]
    assert (
        row["source"] == "tickets" and row["source_kind"] == "support" and row["source_id"] == "1"
    )
    assert (
        row["rating"] == pytest.approx(0.25)
        and row["rating_raw"] == 2
        and row["rating_scale"] == "1-5"
    )
    assert row["created_at"].isoformat() == "2026-10-01T10:00:00+00:00"
    with pytest.raises(ParseError, match=r"week1.csv:4: created_at 'not-a-date'"):
        conn.parse(batches[0].items[2])


def test_incremental_reads_only_new_or_changed_files(small_project: Path) -> None:
    conn = _connector(small_project, "tickets")
    first = list(conn.fetch({}))
    state = first[-1].state
    assert list(conn.fetch(state)) == []
    folder = small_project.parent / "inbox" / "tickets"
    (folder / "week2.csv").write_text("id,created,subject,body\n9,2026-10-09,New,Fresh item\n")
    again = list(conn.fetch(state))
    assert [b.meta["file"] for b in again] == ["week2.csv"]
    state = again[-1].state
    (folder / "week1.csv").write_text(
        (folder / "week1.csv").read_text()
        + "5,2026-10-06T00:00:00Z,,x,More text,acc_1,a@b.example,5\n"
    )
    changed = list(conn.fetch(state))
    assert [b.meta["file"] for b in changed] == ["week1.csv"] and len(changed[0].items) == 5


def test_malformed_json_line_becomes_an_item_that_fails_parsing(small_project: Path) -> None:
    conn = _connector(small_project, "beta")
    items = next(iter(conn.fetch({}))).items
    assert len(items) == 3
    with pytest.raises(ParseError, match=r"b1.jsonl:2: invalid JSON"):
        conn.parse(items[1])
    row = conn.parse(items[2])[0]
    assert row["app_version"] == "5.4.0 (1203)" and row["source_id"] == "b-2"


def test_markdown_notes_use_front_matter_and_body(small_project: Path) -> None:
    conn = _connector(small_project, "notes")
    item = next(iter(conn.fetch({}))).items[0]
    row = conn.parse(item)[0]
    assert row["title"] == "Workshop with Acme" and row["account_id"] == "acc_1"
    assert "SSO with Okta" in row["text"] and row["source_id"] == "2026-10-05-workshop.md"


def test_big_files_are_split_into_batches_and_state_commits_with_the_last(
    small_project: Path, tmp_path: Path
) -> None:
    folder = small_project.parent / "inbox" / "tickets"
    lines = ["id,created,subject,body"] + [f"{i},2026-10-01,s,body {i}" for i in range(12)]
    (folder / "big.csv").write_text("\n".join(lines) + "\n")
    cfg_text = small_project.read_text().replace(
        "rating_scale: [1, 5]", "rating_scale: [1, 5]\n    batch_size: 5", 1
    )
    small_project.write_text(cfg_text)
    conn = _connector(small_project, "tickets")
    batches = [b for b in conn.fetch({}) if b.meta["file"] == "big.csv"]
    assert [len(b.items) for b in batches] == [5, 5, 2]
    assert "big.csv" not in batches[0].state["files"] and "big.csv" in batches[-1].state["files"]
