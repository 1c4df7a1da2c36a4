"""The theming run as tables: fit, assign, re-fit with ids matched; lineage, labels, model runs."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd

from transforms.theme_params import ThemeParams
from transforms.theme_update import Corpus, ThemeUpdate, theme_update

ASKS = [
    ("invoice", "is missing"),
    ("export", "keeps failing"),
    ("login", "times out"),
    ("dashboard", "loads slowly"),
    ("calendar", "shows the wrong timezone"),
    ("webhook", "never fires"),
    ("search", "returns nothing"),
    ("upload", "gets stuck"),
    ("dark mode", "is needed"),  # the late ask
]
DAY_US = 86_400_000_000
NOW = datetime(2026, 9, 1, tzinfo=UTC)


def _items(n_per: int = 60, seed: int = 0) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(unit vectors, ask per item, texts): one blob and one phrase per ask."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(len(ASKS), 384))
    emb = np.vstack(
        [
            c + 0.35 * rng.normal(size=(n_per, 384)) * np.linalg.norm(c) / np.sqrt(384)
            for c in centers
        ]
    )
    ask = np.repeat(np.arange(len(ASKS)), n_per)
    texts = [
        f"Our {ASKS[a][0]} {ASKS[a][1]} since {['monday', 'the update', 'last week'][i % 3]} [EMAIL]"
        for i, a in enumerate(ask)
    ]
    return (emb / np.linalg.norm(emb, axis=1, keepdims=True)).astype(np.float32), ask, texts


def _corpus(rows: np.ndarray, emb: np.ndarray, texts: list[str], days: np.ndarray) -> Corpus:
    rows = np.sort(rows)  # ids sort like the rows, as read_corpus sorts by feedback_id
    return Corpus(
        [f"fb{i:05d}" for i in rows], [texts[i] for i in rows], days[rows] * DAY_US, emb[rows], []
    )


def _run(corpus: Corpus, last: ThemeUpdate | None) -> ThemeUpdate:
    tables = (last.themes, last.assignments, last.lineage) if last else (None, None, None)
    return theme_update(corpus, *tables, ThemeParams(), NOW)


def _theme_of(update: ThemeUpdate) -> dict[str, str | None]:
    a = update.assignments
    return dict(zip(a["feedback_id"].to_pylist(), a["theme_id"].to_pylist(), strict=True))


def test_fit_assign_then_refit_for_a_new_ask_with_lineage_and_labels() -> None:
    emb, ask, texts = _items()
    days = np.arange(ask.size) % 84
    days[ask == 8] = 80
    old = np.flatnonzero((ask < 8) & (np.arange(ask.size) % 60 < 58))
    first = _run(_corpus(old, emb, texts, days), None)
    themes = first.themes.to_pandas()
    active = themes[themes["status"] == "active"]
    assert first.run.refit and first.run.run_id.startswith("fit_") and len(active) == 8
    assert set(first.assignments["model_run"].to_pylist()) == {first.run.run_id}
    assert set(first.lineage["event"].to_pylist()) == {"born"}
    # phrase labels from the texts, unique, keywords beside them, no placeholder
    assert themes["label"].str.lower().is_unique
    assert any(label.lower() == "invoice is missing" for label in active["label"])
    assert not themes["label"].str.contains("EMAIL").any()
    assert (active["keywords"].map(len) > 0).all()

    # two more items per ask: the cheap path, nothing moves, the new items are this run's
    grown = np.flatnonzero(ask < 8)
    second = _run(_corpus(grown, emb, texts, days), first)
    assert not second.run.refit and second.run.run_id.startswith("run_")
    assert second.lineage.equals(first.lineage)
    after = _theme_of(second)
    before = _theme_of(first)
    assert all(after[f] == t for f, t in before.items())
    runs = dict(
        zip(
            second.assignments["feedback_id"].to_pylist(),
            second.assignments["model_run"].to_pylist(),
            strict=True,
        )
    )
    assert {runs[f] for f in before} == {first.run.run_id}
    assert {runs[f] for f in set(runs) - set(before)} == {second.run.run_id}
    s_themes = second.themes.to_pandas()
    assert set(s_themes[s_themes["status"] == "active"]["model_run"]) == {first.run.run_id}

    # a ninth ask, 4% of the corpus, in the last days: re-fit, old ids kept, a split recorded
    with_new = np.concatenate([grown, np.flatnonzero(ask == 8)[:20]])
    third = _run(_corpus(with_new, emb, texts, days), second)
    t_themes = third.themes.to_pandas().set_index("theme_id")
    t_active = t_themes[t_themes["status"] == "active"]
    assert third.run.refit and set(active["theme_id"]) < set(t_active.index)
    (new_id,) = set(t_active.index) - set(active["theme_id"])
    events = third.lineage.to_pandas()
    split = events[events["event"] == "split"]
    assert len(split) == 1 and list(split.iloc[0]["related_ids"]) == [new_id]
    assert split.iloc[0]["theme_id"] in set(active["theme_id"])
    assert list(t_active.loc[new_id, "parent_ids"]) == [split.iloc[0]["theme_id"]]
    assert t_active.loc[new_id, "first_seen"] == pd.Timestamp(80 * DAY_US, unit="us", tz="UTC")
    assert "dark mode" in t_active.loc[new_id, "label"].lower()
    kept = active.set_index("theme_id")["first_seen"]
    assert (t_active.loc[kept.index, "first_seen"] == kept).all()  # old themes keep their history


def test_an_old_theme_no_refit_continues_is_merged_into_the_one_that_took_its_items() -> None:
    emb, ask, texts = _items(seed=1)
    days = np.arange(ask.size) % 84
    rows = np.flatnonzero((ask < 8) & (np.arange(ask.size) % 60 < 50))
    first = _run(_corpus(rows, emb, texts, days), None)
    # pretend the last fit had cut one ask in two: half its items under a second id
    themes = first.themes.to_pandas()
    victim = themes[themes["status"] == "active"].iloc[0]
    twin = victim.copy()
    twin["theme_id"], twin["label"] = "th_twin000000", "Twin"
    twin["centroid"] = np.asarray(victim["centroid"]) * 0.999
    asg = first.assignments.to_pandas()
    mine = asg.index[asg["theme_id"] == victim["theme_id"]]
    asg.loc[mine[::2], "theme_id"] = "th_twin000000"
    doctored = ThemeUpdate(
        first.run,
        type(first.themes).from_pandas(
            pd.concat([themes, twin.to_frame().T]), schema=first.themes.schema, preserve_index=False
        ),
        type(first.assignments).from_pandas(
            asg, schema=first.assignments.schema, preserve_index=False
        ),
        first.lineage,
    )
    grown = np.flatnonzero(ask < 8)  # 20% more items: a re-fit
    second = _run(_corpus(grown, emb, texts, days), doctored)
    assert second.run.refit
    out = second.themes.to_pandas().set_index("theme_id")
    events = second.lineage.to_pandas()
    merged = events[events["event"] == "merged"]
    assert len(merged) == 1
    keep, (gone,) = merged.iloc[0]["theme_id"], list(merged.iloc[0]["related_ids"])
    assert {keep, gone} == {victim["theme_id"], "th_twin000000"}
    assert out.loc[gone, "status"] == "merged" and out.loc[keep, "status"] == "active"
    assert gone in list(out.loc[keep, "parent_ids"])
    active_before = set(themes[themes["status"] == "active"]["theme_id"])
    assert active_before | {"th_twin000000"} == set(out[out["status"] == "active"].index) | {gone}
