"""The ground truth, never ingested: planted trends with observed counts, and item labels.

truth/items.csv has one row per unique item, keyed by (source, source_id) exactly as the
connectors produce them (Zendesk ticket id, App Store Connect review id, Typeform response
token, "screenshot:<id>"/"crash:<id>" for TestFlight, "<channel>:<ts>" for Slack, the file
name for meeting notes), so lake rows join it. `path` says where the item is stored
(vendors/<vendor>.json or inbox/notes/<file>); `app_version` keeps the version the item was
generated with, which App Store Connect reviews do not carry.
"""

from __future__ import annotations

from datetime import date, timedelta

from flows.devtools.demo import catalog as cat
from flows.devtools.demo.people import segments_of
from flows.devtools.demo.schedule import Item

ITEM_COLUMNS = ["source", "source_kind", "source_id", "path", "created_at", "account_id", "plan",
                "region", "segments", "theme", "planted", "pii", "language", "versions", "app_version"]  # fmt: skip
SEGMENT_NAMES = list(cat.SEGMENTS)


def item_segments(item: Item) -> list[str]:
    state = item.state
    return segments_of(state.plan if state else None, item.account.region if item.account else None)


def item_rows(items: list[Item]) -> list[dict[str, str]]:
    """One row per unique item, sorted by source and source id."""
    rows = []
    for item in items:
        state = item.state
        rows.append(
            {
                "source": cat.KIND_TO_SOURCE[item.kind],
                "source_kind": item.kind,
                "source_id": item.source_id,
                "path": item.path,
                "created_at": item.ts.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "account_id": item.account.account_id if item.account else "",
                "plan": state.plan if state else "",
                "region": item.account.region if item.account else "",
                "segments": ";".join(item_segments(item)),
                "theme": item.theme,
                "planted": item.planted,
                "pii": ";".join(sorted(set(item.pii))),
                "language": item.language,
                "versions": "2" if "_update" in item.fields else "1",
                "app_version": item.fields.get("app_version", ""),
            }
        )
    return sorted(rows, key=lambda r: (r["source"], r["created_at"], r["source_id"]))


def _weekly(items: list[Item], theme: str, weeks: int, start: date) -> dict[str, dict]:
    """Weekly counts of a theme per segment (all sources, and customers only)."""
    out: dict[str, dict] = {}
    for seg in ["all", *SEGMENT_NAMES]:
        out[seg] = {"weekly": [0] * weeks, "weekly_customers": [0] * weeks}
    for item in items:
        if item.theme != theme:
            continue
        week = (item.ts.date() - start).days // 7
        for seg in ["all", *item_segments(item)]:
            out[seg]["weekly"][week] += 1
            if item.kind != "internal":
                out[seg]["weekly_customers"][week] += 1
    return out


def planted_truth(items: list[Item], *, seed: int, start: date, end: date, weeks: int,
                  fatigue_accounts: list[str]) -> dict:  # fmt: skip
    """The content of truth/planted.json."""
    recent_from = weeks - 3
    fix_week = weeks // 2 + 1
    week_starts = [(start + timedelta(days=7 * i)).isoformat() for i in range(weeks)]
    trends = []
    for spec in cat.PLANTED:
        kind = spec["kind"]
        if kind == "fading":
            active = list(range(1, fix_week))
        elif kind == "internal_push":
            active = list(range(1, weeks + 1))
        else:
            active = list(range(recent_from, weeks + 1))
        observed = _weekly(items, spec["theme"], weeks, start)
        for stats in observed.values():
            series = stats["weekly"]
            split = fix_week if kind == "fading" else recent_from
            before, after = series[: split - 1], series[split - 1 :]
            stats["mean_before"] = round(sum(before) / len(before), 2)
            stats["mean_after"] = round(sum(after) / len(after), 2)
            stats["ratio"] = (
                round(stats["mean_after"] / stats["mean_before"], 2) if sum(before) else None
            )
        theme = cat.THEMES[spec["theme"]]
        incidental = []
        if kind in ("rising", "emerging"):
            incidental = [seg for seg in SEGMENT_NAMES if seg not in spec["segments"]
                          and observed[seg]["mean_after"] >= 4
                          and (observed[seg]["ratio"] or 99) >= 1.8]  # fmt: skip
        trends.append(
            {
                "id": spec["id"],
                "theme": spec["theme"],
                "label": theme["label"],
                "kind": kind,
                "segment": spec["segment"],
                "segments": spec["segments"],
                "also_affected": incidental,  # overlapping segments the trend spills into
                "where": spec.get("where", {}),
                "source_kinds": sorted(
                    {*spec["sources"], "internal"} if kind == "internal_push" else spec["sources"]
                ),
                "weeks": active,
                "week_starts": [week_starts[w - 1] for w in active],
                "keywords": theme["keywords"],
                "expect_flag": {
                    "rising": "rising",
                    "emerging": "emerging",
                    "fading": "falling",
                    "internal_push": None,
                }[kind],  # fmt: skip
                "app_versions": spec.get("versions", []),
                "description": spec["description"],
                "observed": observed,
            }
        )
    stable = sorted(t for t, m in cat.THEMES.items() if any(m["weights"]))
    return {
        "seed": seed,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "weeks": weeks,
        "week_starts": week_starts,
        "recent_weeks": list(range(recent_from, weeks + 1)),
        "segments": cat.SEGMENTS,
        "trends": trends,
        "distractors": [
            {
                "id": "survey_fatigue",
                "kind": "survey_fatigue",
                "accounts": fatigue_accounts,
                "expect_flag": None,
                "description": "These accounts answer the survey 6-8 times within four weeks, "
                "always about the same theme; repeat decay should keep them from "
                "creating a trend.",
            }
        ],
        "stable_themes": stable,
        "themes": {
            k: {"label": m["label"], "keywords": m["keywords"]}
            for k, m in sorted(cat.THEMES.items())
        },
    }
