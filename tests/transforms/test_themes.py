from __future__ import annotations

import numpy as np
from sklearn.metrics import normalized_mutual_info_score

from transforms.keywords import class_keywords, label_from_keywords
from transforms.theme_labels import label_candidates, unique_labels
from transforms.theme_match import group_ids, refit_ids
from transforms.theme_novelty import novel_part
from transforms.theme_params import ThemeParams
from transforms.themes import Theming, previous_from, themed

DAY_US = 86_400_000_000


def _blobs(
    n_per: int = 60, k: int = 8, dim: int = 384, noise: float = 0.35, seed: int = 0
) -> tuple[np.ndarray, list[int]]:
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(k, dim))
    x, y = [], []
    for c in range(k):
        pts = centers[c] + noise * rng.normal(size=(n_per, dim)) * np.linalg.norm(
            centers[c]
        ) / np.sqrt(dim)
        x.append(pts)
        y += [c] * n_per
    x = np.vstack(x)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32), y


def _ids(n: int) -> list[str]:
    return [f"i{i:04d}" for i in range(n)]


def _next(run: Theming, ids: list[str], emb: np.ndarray, rows: list[int], **kw) -> Theming:
    """The run after `run` (on the first len(ids) items) on the items `rows`."""
    later = _ids(emb.shape[0])
    names = [later[i] for i in rows]
    return themed(names, emb[rows], previous=previous_from(run, ids, names), **kw)


def test_recovers_planted_clusters_within_outlier_budget() -> None:
    emb, truth = _blobs()
    result = themed(_ids(len(truth)), emb)
    assert len(result.themes.ids) == 8 and result.refit
    assert result.unassigned_share <= ThemeParams().max_unassigned
    assigned = result.codes >= 0
    assert normalized_mutual_info_score(np.array(truth)[assigned], result.codes[assigned]) > 0.95
    assert len(set(result.groups.values())) < 8  # themes roll up into groups
    assert len(result.lineage.born) == 8 and not result.lineage.split


def test_granularity_follows_the_data_not_a_distance() -> None:
    """Eight tight asks all close to one another (a narrow domain) still give eight themes."""
    emb, truth = _blobs(seed=4)
    shared = np.random.default_rng(7).normal(size=384)  # what every item of the domain has
    narrow = emb + 3.5 * shared / np.linalg.norm(shared)
    narrow /= np.linalg.norm(narrow, axis=1, keepdims=True)
    assert np.median(narrow @ narrow.T) > 0.9
    result = themed(_ids(len(truth)), narrow)
    assert len(result.themes.ids) == 8
    assert normalized_mutual_info_score(truth, result.codes) > 0.95


def test_same_data_gives_same_ids_whatever_the_input_order() -> None:
    emb, _ = _blobs(seed=1)
    ids = _ids(emb.shape[0])
    a = themed(ids, emb, params=ThemeParams(seed=3))
    perm = np.random.default_rng(9).permutation(len(ids))
    b = themed([ids[i] for i in perm], emb[perm], params=ThemeParams(seed=3))
    assert sorted(a.themes.ids) == sorted(b.themes.ids)
    by_id_a = dict(zip(ids, a.assignment, strict=True))
    by_id_b = dict(zip([ids[i] for i in perm], b.assignment, strict=True))
    assert by_id_a == by_id_b


def test_outlier_budget_is_enforced_on_noise() -> None:
    emb, _ = _blobs(k=8, n_per=40)
    noise = np.random.default_rng(5).normal(size=(80, 384)).astype(np.float32)
    noise /= np.linalg.norm(noise, axis=1, keepdims=True)
    allx = np.vstack([emb, noise])
    result = themed(_ids(allx.shape[0]), allx, params=ThemeParams(max_unassigned=0.15))
    assert 0 < result.unassigned_share <= 0.15 + 1e-9


def test_a_rerun_on_unchanged_data_changes_nothing() -> None:
    emb, _ = _blobs(seed=4)
    noise = np.random.default_rng(6).normal(size=(30, 384)).astype(np.float32)
    allx = np.vstack([emb, noise / np.linalg.norm(noise, axis=1, keepdims=True)])
    ids = _ids(allx.shape[0])
    first = themed(ids, allx)
    second = themed(ids, allx, previous=previous_from(first, ids, ids))
    assert not second.refit and second.assignment == first.assignment
    assert second.themes.ids == first.themes.ids and second.groups == first.groups
    assert second.lineage.born == [] and not second.lineage.merged and not second.lineage.split
    assert np.allclose(second.themes.centroids, first.themes.centroids)


def test_few_new_items_like_the_old_join_their_theme_without_a_refit() -> None:
    emb, truth = _blobs(n_per=70, seed=2)
    old = [i for i in range(len(truth)) if i % 70 < 68]  # two items per ask arrive later
    first_ids = [_ids(len(truth))[i] for i in old]
    first = themed(first_ids, emb[old])
    second = _next(first, first_ids, emb, old + [i for i in range(len(truth)) if i % 70 >= 68])
    assert not second.refit and second.themes.ids == first.themes.ids
    assert np.array_equal(second.codes[: len(old)], first.codes)  # earlier items keep theirs
    late = second.codes[len(old) :]
    majority = {t: np.bincount(first.codes[np.array(truth)[old] == t]).argmax() for t in range(8)}
    late_truth = [truth[i] for i in range(len(truth)) if i % 70 >= 68]
    assert all(c == majority[t] for c, t in zip(late, late_truth, strict=True))
    assert not second.fitted[len(old) :].any() and second.fitted[: len(old)].all()


def test_many_new_items_refit_to_the_batch_partition_with_the_old_ids() -> None:
    emb, truth = _blobs(n_per=70, seed=3)
    ids = _ids(len(truth))
    old = [i for i in range(len(truth)) if i % 70 < 50]
    first = themed([ids[i] for i in old], emb[old])
    second = _next(first, [ids[i] for i in old], emb, list(range(len(truth))))
    assert second.refit and second.fitted.all()
    batch = themed(ids, emb)  # one run on the same data, from scratch
    assert normalized_mutual_info_score(batch.codes, second.codes) == 1.0
    assert set(second.themes.ids) == set(first.themes.ids)  # every theme kept its id
    assert not second.lineage.born and not second.lineage.split and not second.lineage.merged


def test_a_new_ask_becomes_a_new_theme_split_from_its_neighbour() -> None:
    """A ninth ask arrives in the last weeks, 4% of the corpus: too few to re-fit by volume, but
    the novelty check finds it, the corpus is re-fitted, old ids stay, the new ask gets its own
    theme with a split from the theme its items would have joined."""
    emb, truth = _blobs(n_per=60, k=9, seed=5)
    truth = np.array(truth)
    new = np.flatnonzero(truth == 8)[:22]
    old = np.flatnonzero(truth < 8)
    created = np.where(truth == 8, 80, np.arange(truth.size) % 84) * DAY_US
    ids = _ids(len(truth))
    first = themed([ids[i] for i in old], emb[old], created[old])
    rows = np.concatenate([old, new])
    names = [ids[i] for i in rows]
    second = themed(
        names, emb[rows], created[rows], previous_from(first, [ids[i] for i in old], names)
    )
    assert second.refit
    assert set(first.themes.ids) <= set(second.themes.ids)
    born = sorted(set(second.themes.ids) - set(first.themes.ids))
    assert len(born) == 1 and second.lineage.split
    ((parent, kids),) = second.lineage.split.items()
    assert kids == born and parent in first.themes.ids
    late = [second.assignment[i] for i in range(old.size, rows.size)]
    assert late.count(born[0]) >= 0.9 * len(late)  # the rest: outliers, unassigned


def test_weekly_runs_equal_one_batch_run_and_a_late_ask_is_new() -> None:
    """Twelve weekly runs and one run on the same twelve weeks give the same partition; an ask
    that only exists in the last four weeks has its own theme, new since week 8."""
    emb, truth = _blobs(n_per=50, k=9, seed=6)
    truth = np.array(truth)
    rng = np.random.default_rng(6)
    day = rng.integers(0, 84, size=truth.size)
    day[truth == 8] = rng.integers(56, 84, size=(truth == 8).sum())
    ids = _ids(truth.size)
    run, seen, week8 = None, [], set()
    for end in range(7, 85, 7):
        rows = np.flatnonzero(day < end)
        names = [ids[i] for i in rows]
        prev = previous_from(run, seen, names) if run is not None else None
        run, seen = themed(names, emb[rows], day[rows] * DAY_US, prev), names
        week8 = set(run.themes.ids) if end == 56 else week8
    batch = themed(ids, emb, day * DAY_US)
    order = np.argsort(np.array(seen))
    assert normalized_mutual_info_score(batch.codes, run.codes[order]) >= 0.95
    late = [run.assignment[p] for p in order[truth == 8]]
    top = max(set(late), key=late.count)
    assert top not in week8 and late.count(top) >= 0.8 * len(late)


def test_novel_part_finds_a_late_neighbour_inside_a_theme_and_nothing_in_a_steady_one() -> None:
    rng = np.random.default_rng(1)
    base = rng.normal(size=384)
    near = base + 0.9 * rng.normal(size=384)  # a neighbouring ask: cosine ~0.75
    pts = [
        c + 0.6 * rng.normal(size=(120, 384)) * np.linalg.norm(c) / np.sqrt(384)
        for c in (base, near)
    ]
    emb = np.vstack(pts)
    emb = (emb / np.linalg.norm(emb, axis=1, keepdims=True)).astype(np.float32)
    history, steady_recent = np.arange(0, 80), np.arange(80, 120)
    late = np.arange(120, 180)
    params = ThemeParams()
    part = novel_part(emb, history, np.concatenate([steady_recent, late]), 1 / 3, 0, params)
    assert part is not None and np.isin(part, late).mean() > 0.9 and part.size >= 0.8 * late.size
    assert novel_part(emb, history, steady_recent, 1 / 3, 0, params) is None


def test_refit_ids_keep_continued_ids_split_the_new_and_merge_the_gone() -> None:
    """Old themes a, b, c; the re-fit continues a and b, c's items went into b, and a new theme
    holds items that were in a."""
    rng = np.random.default_rng(0)
    old_cents = rng.normal(size=(3, 16))
    old_cents /= np.linalg.norm(old_cents, axis=1, keepdims=True)
    novel = rng.normal(size=16)
    new_cents = np.vstack([old_cents[1], old_cents[0], novel / np.linalg.norm(novel)])
    old_codes = np.array([0] * 10 + [1] * 10 + [2] * 5 + [0] * 6)
    codes = np.array([1] * 10 + [0] * 10 + [0] * 5 + [2] * 6)
    ids, lineage = refit_ids(
        np.zeros((31, 16), np.float32),
        codes,
        new_cents.astype(np.float32),
        np.full(3, 0.5, np.float32),
        (["a", "b", "c"], old_cents.astype(np.float32), old_codes),
        (_ids(31), np.arange(31), 42),
    )
    assert ids[:2] == ["b", "a"] and ids[2].startswith("th_")
    assert lineage.split == {"a": [ids[2]]} and lineage.merged == {"b": ["c"]}
    assert lineage.born == [] and lineage.retired == []


def test_group_ids_follow_their_themes() -> None:
    previous = {"a": "grp_1", "b": "grp_1", "c": "grp_2", "d": "grp_2", "e": "e"}
    got = group_ids(
        ["a", "b", "c", "d", "e", "f"], np.array([0, 0, 1, 1, 1, 2]), np.ones(6), previous, 42
    )
    assert got["a"] == got["b"] == "grp_1" and got["c"] == got["d"] == got["e"] == "grp_2"
    assert got["f"] == "f"
    regrouped = group_ids(["a", "b", "c", "d"], np.array([0, 1, 0, 1]), np.ones(4), previous, 42)
    assert {regrouped["a"], regrouped["b"]} == {"grp_1", "grp_2"}  # one to one, no id twice
    assert regrouped["a"] == regrouped["c"] != regrouped["b"] == regrouped["d"]


def test_keywords_are_distinctive_per_theme() -> None:
    docs = {
        "a": [
            "CSV export fails with an error",
            "export to CSV is broken",
            "the CSV export crashes",
        ],
        "b": [
            "dashboards are slow to load",
            "slow dashboard every morning",
            "dashboard loading takes forever",
        ],
    }
    kw = class_keywords(docs)
    assert "export" in " ".join(kw["a"][:2]) and "csv" in " ".join(kw["a"][:3])
    assert "dashboard" in " ".join(kw["b"][:2])
    assert label_from_keywords(kw["a"]).count(" / ") <= 2


def test_labels_are_phrases_from_the_theme_s_own_texts() -> None:
    texts = [
        "How do I change my PIN?",
        "I want to change my PIN number",
        "need to change my pin, I forgot it",
        "change my pin please [EMAIL]",
        "what's the procedure to change my PIN",
    ]
    labels = label_candidates(texts, ["pin", "change pin", "forgot"])
    assert labels[0] == "Change my PIN"
    assert all("[EMAIL]" not in label for label in labels)
    short = label_candidates(["Dark mode for the editor", "dark theme would be great"], ["dark"])
    assert short[0] == "Dark mode for the editor"  # nothing recurs: the most central short text


def test_no_label_is_shared_by_two_themes() -> None:
    candidates = {
        "t1": ["Change my PIN", "Reset PIN"],
        "t2": ["Change my PIN"],
        "t3": ["Change my PIN"],
        "t4": ["Change my PIN"],
        "g1": ["Change my pin", "PIN and card"],
    }
    keywords = {"t2": ["pin", "atm"], "t3": ["pin change"], "t4": []}
    got = unique_labels(candidates, ["t1", "t2", "t3", "t4", "g1"], keywords)
    assert got["t1"] == "Change my PIN" and got["t2"] == "Change my PIN (atm)"
    assert got["g1"] == "PIN and card"
    assert len({v.lower() for v in got.values()}) == len(got)


def test_one_word_junk_is_not_substantive_but_short_reviews_and_cjk_are() -> None:
    from transforms.keywords import substantive

    assert not substantive("test") and not substantive("asdf ") and not substantive("ok!!")
    assert substantive("Love it!!") and substantive("crashes constantly")
    assert substantive("アプリがすぐ落ちる") and substantive("Die App stürzt ab")
