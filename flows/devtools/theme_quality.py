"""Theme quality on labeled real requests: Chorus's themes against BERTopic on the same embeddings.

Two sets whose intents are finer in some scenarios and coarser in others: CLINC150's test split
(4,500 in-scope requests, 150 intents, and its 1,000 out-of-scope ones) and every fold of HWU64
(11,036 requests, 64 intents). Chorus runs with one configuration, the `ThemesConfig` defaults,
on both; BERTopic as its documentation configures it (UMAP + HDBSCAN) on the same vectors, in
the same run. NMI and ARI are on in-scope items with "unassigned" counted as one more label.

    python -m flows.devtools.theme_quality [--datasets ../shared/datasets]
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"
OUT_OF_SCOPE = "oos"

Embed = Callable[[list[str]], np.ndarray]


def clinc_items(folder: Path) -> tuple[list[str], list[str]]:
    """CLINC150's test split and its out-of-scope test requests (labelled "oos")."""
    data = json.loads((folder / "data_full.json").read_text(encoding="utf-8"))
    rows = data["test"] + data["oos_test"]
    return [t for t, _ in rows], [label for _, label in rows]


def hwu_items(folder: Path) -> tuple[list[str], list[str]]:
    """Every fold of HWU64 (its intents)."""
    with open(folder / "hwu64.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return [r["text"] for r in rows], [r["intent"] for r in rows]


def embedded(texts: list[str]) -> np.ndarray:
    """The texts as Chorus embeds them (the default model and backend)."""
    from transforms.embed import Embedder

    return Embedder().encode(texts)


def scores(labels: list[str], predicted: np.ndarray) -> dict[str, float]:
    """NMI and ARI on in-scope items (-1, unassigned, is one label), unassigned shares."""
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    truth = np.asarray(labels)
    inscope = truth != OUT_OF_SCOPE
    return {
        "nmi": float(normalized_mutual_info_score(truth[inscope], predicted[inscope])),
        "ari": float(adjusted_rand_score(truth[inscope], predicted[inscope])),
        "unassigned": float(np.mean(predicted == -1)),
        "oos_unassigned": float(np.mean(predicted[~inscope] == -1))
        if (~inscope).any()
        else float("nan"),
        "themes": int(len(set(predicted.tolist()) - {-1})),
    }


def chorus_themes(embeddings: np.ndarray) -> tuple[np.ndarray, int]:
    """(theme per item, -1 unassigned; groups) from one fit with the ThemesConfig defaults."""
    from flows.runtime.config import ThemesConfig
    from flows.runtime.report_datasets import theme_params
    from transforms.themes import themed

    ids = [f"item-{i:06d}" for i in range(embeddings.shape[0])]
    run = themed(ids, embeddings, params=theme_params(ThemesConfig()))
    return run.codes, len(set(run.groups.values()))


def bertopic_topics(texts: list[str], embeddings: np.ndarray, seed: int = 42) -> np.ndarray:
    """BERTopic's topic per item (-1: outlier) on the given embeddings."""
    try:
        from bertopic import BERTopic
        from hdbscan import HDBSCAN
        from umap import UMAP
    except ImportError as exc:  # pragma: no cover - make eval installs it
        raise SystemExit(
            f"BERTopic is not installed ({exc}); run `make eval`, which installs requirements-eval.lock"
        ) from None
    model = BERTopic(
        umap_model=UMAP(
            n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine", random_state=seed
        ),
        hdbscan_model=HDBSCAN(
            min_cluster_size=10,
            metric="euclidean",
            cluster_selection_method="eom",
            prediction_data=True,
        ),
    )
    topics, _ = model.fit_transform(texts, embeddings)
    return np.asarray(topics)


def quality(texts: list[str], labels: list[str], embeddings: np.ndarray) -> dict[str, Any]:
    """Chorus and BERTopic on one labeled set: scores, theme counts, seconds."""
    t0 = time.monotonic()
    ours, groups = chorus_themes(embeddings)
    out: dict[str, Any] = {"items": len(texts), "intents": len(set(labels) - {OUT_OF_SCOPE})}
    out |= scores(labels, ours) | {"groups": groups, "seconds": time.monotonic() - t0}
    t0 = time.monotonic()
    theirs = scores(labels, bertopic_topics(texts, embeddings))
    out |= {f"bertopic_{k}": v for k, v in theirs.items()}
    out["bertopic_seconds"] = time.monotonic() - t0
    return out


def dataset_quality(datasets: Path = SHARED, embed: Embed = embedded) -> dict[str, dict[str, Any]]:
    """Per data set ("clinc150", "hwu64"): Chorus's and BERTopic's figures (see `quality`)."""
    out = {}
    for name, items in (("clinc150", clinc_items), ("hwu64", hwu_items)):
        texts, labels = items(datasets / name)
        out[name] = quality(texts, labels, embed(texts))
    return out


def print_quality(results: dict[str, dict[str, Any]]) -> None:
    """One Markdown table: a row per data set and method."""
    print("## Theme quality on labeled requests (same embeddings, same run; ThemesConfig defaults)")
    print(
        "| data set | items / intents | method | themes | NMI | ARI | unassigned | out-of-scope unassigned | s |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name, r in results.items():
        for method, p in (("Chorus", ""), ("BERTopic", "bertopic_")):
            oos = r[f"{p}oos_unassigned"]
            themes = f"{r[f'{p}themes']}" + (f" ({r['groups']} groups)" if not p else "")
            print(
                f"| {name} | {r['items']:,} / {r['intents']} | {method} | {themes} | {r[f'{p}nmi']:.3f} "
                f"| {r[f'{p}ari']:.3f} | {r[f'{p}unassigned']:.1%} | {'-' if oos != oos else f'{oos:.1%}'} "
                f"| {r[f'{p}seconds']:.0f} |"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--datasets", default=str(SHARED), help="folder holding clinc150/ and hwu64/"
    )
    args = parser.parse_args(argv)
    print_quality(dataset_quality(Path(args.datasets)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
