"""The parameters of theming, in one place (fit, outliers, groups, the incremental rule)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ThemeParams:
    seed: int = 42
    # the fit: stability-chosen k-means on a seeded sample (transforms/theme_fit.py)
    sample_size: int = 20_000  # items the themes are fitted on (a seeded hash sample of ids)
    stability_sample: int = 8_000  # of those, the items the stability search runs on
    coarse_repeats: int = 2  # half splits per k in the search's first, coarse sweep
    smoothing_neighbors: int = 3  # each vector averaged with its k nearest before fitting (0: off)
    search_dims: int = 128  # PCA dimensions of the stability search (0: full)
    coarse_ratio: float = 1.5  # coarse sweep: consecutive candidate k differ by this factor
    stop_drop: float = 0.05  # it stops once agreement stays this far below its best ...
    sweep_at_least: int = 100  # ... but not before k reaches this (small k agree by chance)
    grid_ratio: float = 1.12  # the fine sweep around the coarse peak
    repeats: int = 3  # half splits per k in the fine sweep
    tolerance: float = 0.01  # the smallest k whose agreement is within this of the best
    k_min: int = 8
    k_cap: int = 1_000
    min_half_items_per_theme: int = 5  # the largest k tried: half the search sample / this
    # outliers: an item this many robust deviations below its theme's median similarity
    outlier_z: float = 3.5
    max_unassigned: float = 0.10
    min_theme_size: int = 10  # a theme (fitted, or a new ask) holds at least this many items
    # groups: the silhouette cut holds this many themes per group on average, at least / at most
    group_min_themes: int = 3
    group_max_themes: int = 10
    # the incremental rule (transforms/themes.py) and the novelty tests (theme_novelty.py)
    refit_share: float = 0.05  # re-fit once the items since the last fit exceed this share
    novelty_z: float = 2.0  # an item this far below its theme's median similarity is unlike it
    recent_days: float = 28.0  # "recent": created within this many days of the newest item
