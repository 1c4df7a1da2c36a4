from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import normalized_mutual_info_score

from transforms.keywords import class_keywords, label_from_keywords
from transforms.themes import ThemeParams, themed


def _blobs(
    n_per: int = 60, k: int = 5, dim: int = 384, noise: float = 0.35, seed: int = 0
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


def test_recovers_planted_clusters_within_outlier_budget() -> None:
    emb, truth = _blobs()
    ids = [f"i{i:04d}" for i in range(len(truth))]
    result = themed(ids, emb, None, params=ThemeParams())
    assert len(result.themes.ids) == 5
    assert result.unassigned_share <= 0.15
    assigned = [(t, a) for t, a in zip(truth, result.assignment, strict=True) if a is not None]
    assert normalized_mutual_info_score([t for t, _ in assigned], [a for _, a in assigned]) > 0.95


def test_same_data_gives_same_ids_whatever_the_input_order() -> None:
    emb, _ = _blobs(seed=1)
    ids = [f"i{i:04d}" for i in range(emb.shape[0])]
    a = themed(ids, emb, None, params=ThemeParams(seed=3))
    perm = np.random.default_rng(9).permutation(len(ids))
    b = themed([ids[i] for i in perm], emb[perm], None, params=ThemeParams(seed=3))
    assert sorted(a.themes.ids) == sorted(b.themes.ids)
    by_id_a = dict(zip(ids, a.assignment, strict=True))
    by_id_b = dict(zip([ids[i] for i in perm], b.assignment, strict=True))
    assert by_id_a == by_id_b


def test_new_items_join_existing_themes_and_a_new_cluster_is_born() -> None:
    emb, truth = _blobs(k=6, seed=2)
    ids = [f"i{i:04d}" for i in range(len(truth))]
    old = [i for i, t in enumerate(truth) if t < 5]
    first = themed([ids[i] for i in old], emb[old], None)
    assert len(first.themes.ids) == 5
    previous = {ids[i]: a for i, a in zip(old, first.assignment, strict=True)}
    second = themed(ids, emb, first.themes, previous)
    assert set(first.themes.ids) <= set(second.themes.ids)
    assert len(second.born) == 1
    for i in old:
        a = second.assignment[i]
        if a is not None and first.assignment[old.index(i)] is not None:
            assert a == first.assignment[old.index(i)]


def test_outlier_budget_is_enforced_on_noise() -> None:
    emb, _ = _blobs(k=3, n_per=40)
    noise = np.random.default_rng(5).normal(size=(60, 384)).astype(np.float32)
    noise /= np.linalg.norm(noise, axis=1, keepdims=True)
    allx = np.vstack([emb, noise])
    result = themed(
        [f"i{i}" for i in range(allx.shape[0])], allx, None, params=ThemeParams(max_unassigned=0.15)
    )
    assert result.unassigned_share <= 0.15 + 1e-9


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


def test_a_rerun_on_unchanged_data_changes_nothing() -> None:
    emb, _ = _blobs(k=4, seed=4)
    noise = np.random.default_rng(6).normal(size=(30, 384)).astype(np.float32)
    allx = np.vstack([emb, noise / np.linalg.norm(noise, axis=1, keepdims=True)])
    ids = [f"i{i:04d}" for i in range(allx.shape[0])]
    first = themed(ids, allx)
    second = themed(ids, allx, first.themes, dict(zip(ids, first.assignment, strict=True)))
    assert second.assignment == first.assignment
    assert second.themes.ids == first.themes.ids and second.born == [] and second.merged == {}
    assert np.allclose(second.themes.centroids, first.themes.centroids)


def grown_by_a_trickle(emb: np.ndarray) -> tuple[Any, str, dict, list[str], list[str]]:
    """Group A (the first 40 rows) themed, then group B (the next 14) trickling in 7 items a
    run: the last run, the first theme's id, item -> theme, and the ids of A and of B."""
    a, b = list(range(40)), list(range(40, 54))
    ids = [f"i{i:04d}" for i in range(len(emb))]
    params = ThemeParams(max_unassigned=0.0)
    run = themed([ids[i] for i in a], emb[a], params=params)
    parent = run.themes.ids[0]
    seen = a
    for batch in (b[:7], b[7:]):
        prev = dict(zip([ids[i] for i in seen], run.assignment, strict=True))
        seen = seen + batch
        run = themed([ids[i] for i in seen], emb[seen], run.themes, prev, params)
    got = dict(zip([ids[i] for i in seen], run.assignment, strict=True))
    return run, parent, got, [ids[i] for i in a], [ids[i] for i in b]


def test_a_theme_that_grows_into_two_groups_splits_with_lineage() -> None:
    emb, _ = _blobs(k=2, n_per=40, seed=8)
    run, parent, got, a, b = grown_by_a_trickle(emb)
    assert list(run.split) == [parent] and len(run.split[parent]) == 1
    child = run.split[parent][0]
    assert {got[i] for i in b} == {child} and {got[i] for i in a} == {parent}


def test_one_word_junk_is_not_substantive_but_short_reviews_and_cjk_are() -> None:
    from transforms.keywords import substantive

    assert not substantive("test") and not substantive("asdf ") and not substantive("ok!!")
    assert substantive("Love it!!") and substantive("crashes constantly")
    assert substantive("アプリがすぐ落ちる") and substantive("Die App stürzt ab")
