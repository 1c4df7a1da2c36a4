"""Decide what feedback exists: which source, week, time, account and theme for every item.

Stable themes are drawn from fixed weights each week (noise around a constant rate); the
planted themes come only from the explicit weekly schedules in `catalog.PLANTED`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flows.devtools.demo import catalog as cat
from flows.devtools.demo.people import Account, AccountState, Person

UTC_OFFSET = {"NA": -6, "EMEA": 1, "APAC": 8, "LATAM": -4}


@dataclass
class Item:
    """One feedback item before rendering (theme 'noise' for off-topic items)."""

    kind: str
    ts: datetime
    theme: str
    account: Account | None = None
    contact: Person | None = None
    planted: str = ""
    version: str = ""
    repeat: int = 0  # survey fatigue: 0 for the first answer, then 1, 2, ...
    fields: dict = field(default_factory=dict)
    pii: list[str] = field(default_factory=list)
    language: str = "en"
    source_id: str = ""
    path: str = ""

    @property
    def state(self) -> AccountState | None:
        return self.account.state_at(self.ts.date()) if self.account else None


def stochastic_round(rng: random.Random, value: float) -> int:
    base = int(value)
    return base + (1 if rng.random() < value - base else 0)


class Scheduler:
    """Builds the list of items for `weeks` weeks starting on `start`."""

    def __init__(self, rng: random.Random, accounts: list[Account], start: date, weeks: int,
                 scale: float) -> None:  # fmt: skip
        self.rng, self.accounts, self.start, self.weeks, self.scale = (
            rng, accounts, start, weeks, scale)  # fmt: skip
        self.recent_from = weeks - 3  # first week of the last four
        self.fix_week = weeks // 2 + 1
        self.items: list[Item] = []

    # -- helpers -------------------------------------------------------------------------
    def week_start(self, week: int) -> date:
        return self.start + timedelta(days=7 * (week - 1))

    def timestamp(self, week: int, kind: str, region: str | None) -> datetime:
        """A plausible time inside the week: weekdays and office hours, by region."""
        rng = self.rng
        weekend = 0.9 if kind == "review" else 0.25
        day = rng.choices(range(7), (1, 1, 1, 1, 0.9, weekend, weekend))[0]
        if kind == "review" or region is None:
            hour = rng.uniform(0, 24)
        else:
            hour = rng.triangular(7.5, 19, 11) - UTC_OFFSET[region]
        base = datetime.combine(self.week_start(week), datetime.min.time())
        offset = timedelta(days=day, hours=hour, seconds=rng.randint(0, 59))
        offset = timedelta(seconds=int(offset.total_seconds()) % (7 * 86400))
        return base + offset

    def account_weight(self, account: Account, state: AccountState, kind: str) -> float:
        reach = cat.SOURCE_PLAN_REACH[kind][state.plan]
        activity = cat.PLAN_ACTIVITY[state.plan] * cat.LIFECYCLE_ACTIVITY[state.lifecycle]
        return reach * activity * account.chattiness

    def pick_account(self, kind: str, week: int, plans: list[str] | None = None,
                     regions: list[str] | None = None,
                     exclude: dict | None = None) -> Account:  # fmt: skip
        """An account weighted by activity, as of the week's start, matching the filters."""
        day = self.week_start(week)
        pool, weights = [], []
        for account in self.accounts:
            state = account.state_at(day)
            if plans and state.plan not in plans:
                continue
            if regions and account.region not in regions:
                continue
            if exclude and _matches(exclude, state.plan, account.region):
                continue
            weight = self.account_weight(account, state, kind) or 0.05
            pool.append(account)
            weights.append(weight)
        return self.rng.choices(pool, weights)[0]

    def add(self, kind: str, week: int, theme: str, account: Account | None, planted: str = "",
            version: str = "") -> Item:  # fmt: skip
        region = account.region if account else None
        contact = self.rng.choice(account.contacts) if account else None
        item = Item(kind, self.timestamp(week, kind, region), theme, account, contact, planted,
                    version)  # fmt: skip
        self.items.append(item)
        return item

    def _pick(self, mapping: dict[str, float]) -> str:
        keys = sorted(mapping)
        return self.rng.choices(keys, [mapping[k] for k in keys])[0]

    # -- stable volume -------------------------------------------------------------------
    def stable(self) -> None:
        """Base volume per source and week; themes allocated from constant weights.

        Within each (week, source, plan, region) group the theme counts are allocated by
        systematic sampling (each count is the floor or ceiling of its expectation), so a
        stable theme stays close to its constant rate in every segment.
        """
        stable_themes = [t for t, meta in cat.THEMES.items() if any(meta["weights"])]
        for week in range(1, self.weeks + 1):
            day = self.week_start(week)
            for _, (kind, share) in cat.SOURCES.items():
                k = cat.KINDS.index(kind)
                mean = cat.BASE_WEEKLY_ITEMS * share * self.scale * self.rng.uniform(0.95, 1.05)
                groups: dict[tuple[str, str], list[Account | None]] = {}
                for _ in range(stochastic_round(self.rng, mean)):
                    account = None if kind == "review" else self.pick_account(kind, week)
                    if self.rng.random() < cat.NOISE_SHARE.get(kind, 0.0):
                        self.add(kind, week, "noise", account)
                        continue
                    plan = account.state_at(day).plan if account else "free"
                    groups.setdefault((plan, account.region if account else ""), []).append(account)
                for (plan, _), members in sorted(groups.items()):
                    p = cat.PLANS.index(plan)
                    weights = [cat.THEMES[t]["weights"][k] * cat.THEMES[t]["plans"][p]
                               for t in stable_themes]  # fmt: skip
                    themes = self._allocate(stable_themes, weights, len(members))
                    for account, theme in zip(members, themes, strict=True):
                        self.add(kind, week, theme, account)

    def _allocate(self, keys: list[str], weights: list[float], n: int) -> list[str]:
        """`n` keys in random order, each key floor/ceil of its expected share."""
        total = sum(weights)
        u, cum, out = self.rng.random(), 0.0, []
        for key, weight in zip(keys, weights, strict=True):
            before = int(cum + u)
            cum += n * weight / total
            out += [key] * (int(cum + u) - before)
        out = out[:n] + [keys[-1]] * (n - len(out))
        self.rng.shuffle(out)
        return out

    # -- planted trends ------------------------------------------------------------------
    def planted(self) -> None:
        for spec in cat.PLANTED:
            getattr(self, f"_plant_{spec['kind']}")(spec)

    def _count(self, mean: float) -> int:
        return stochastic_round(self.rng, mean * self.scale * self.rng.uniform(0.88, 1.12))

    def _plant_one(self, spec: dict, week: int, sources: dict[str, float],
                   plans: list[str] | None, regions: list[str] | None = None,
                   exclude: dict | None = None, planted: str = "") -> None:  # fmt: skip
        kind = self._pick(sources)
        if kind == "review":
            version = ""
            if spec.get("versions") and week >= self.recent_from and self.rng.random() < 0.9:
                version = self.rng.choice(spec["versions"][: week - self.recent_from + 1])
            self.add(kind, week, spec["theme"], None, planted, version)
            return
        account = self.pick_account(kind, week, plans, regions, exclude)
        self.add(kind, week, spec["theme"], account, planted)

    def _background(self, spec: dict) -> None:
        bg = spec.get("background")
        if not bg:
            return
        keys = sorted(bg["plans"])
        for week in range(1, self.weeks + 1):
            count = self._count(bg["per_week"])
            for plan in self._allocate(keys, [bg["plans"][k] for k in keys], count):
                self._plant_one(spec, week, bg["sources"], [plan], exclude=spec["where"])

    def _plant_rising(self, spec: dict) -> None:
        where = spec["where"]
        for week in range(1, self.weeks + 1):
            factor = 1.0
            if week >= self.recent_from:
                factor = spec["recent"][min(week - self.recent_from, len(spec["recent"]) - 1)]
            for _ in range(self._count(spec["baseline"] * factor)):
                self._plant_one(spec, week, spec["sources"], where.get("plan"), where.get("region"),
                                planted=spec["id"])  # fmt: skip
        self._background(spec)

    def _plant_emerging(self, spec: dict) -> None:
        for i, week in enumerate(range(self.recent_from, self.weeks + 1)):
            mean = spec["counts"][min(i, len(spec["counts"]) - 1)]
            keys = sorted(spec["plan_mix"])
            weights = [spec["plan_mix"][k] for k in keys]
            for plan in self._allocate(keys, weights, self._count(mean)):
                self._plant_one(spec, week, spec["sources"], [plan], planted=spec["id"])

    def _plant_fading(self, spec: dict) -> None:
        for week in range(1, self.weeks + 1):
            if week < self.fix_week:
                count = self._count(spec["baseline"])
            else:
                count = 1 if self.rng.random() < spec["after"] else 0
            keys = sorted(spec["plans"])
            for plan in self._allocate(keys, [spec["plans"][k] for k in keys], count):
                self._plant_one(spec, week, spec["sources"], [plan], planted=spec["id"])

    def _plant_internal_push(self, spec: dict) -> None:
        plans = spec["where"]["plan"]
        for week in range(1, self.weeks + 1):
            mean = spec["internal_recent"] if week >= self.recent_from else spec["internal"]
            for _ in range(self._count(mean)):
                self._plant_one(spec, week, {"internal": 1.0}, plans, planted=spec["id"])
            for _ in range(self._count(spec["customers"])):
                self._plant_one(spec, week, spec["sources"], plans)

    # -- survey fatigue ------------------------------------------------------------------
    def survey_fatigue(self, n_accounts: int) -> list[str]:
        """A few accounts answer the survey 6-8 times within four weeks, on one pet theme."""
        day0 = self.start
        eligible = [a for a in self.accounts
                    if a.state_at(day0).plan != "free" and a.state_at(day0).lifecycle == "active"]  # fmt: skip
        chosen = sorted(self.rng.sample(eligible, min(n_accounts, len(eligible))),
                        key=lambda a: a.account_id)  # fmt: skip
        k = cat.KINDS.index("survey")
        themes = [t for t, m in cat.THEMES.items() if m["weights"][k] and t != "praise"]
        for account in chosen:
            theme = self.rng.choices(themes, [cat.THEMES[t]["weights"][k] for t in themes])[0]
            first_week = self.rng.randint(1, max(1, self.weeks - 3))
            days = sorted(self.rng.sample(range(28), self.rng.randint(6, 8)))
            contact = self.rng.choice(account.contacts)
            for n, offset in enumerate(days):
                week = first_week + offset // 7
                ts = self.timestamp(week, "survey", account.region)
                ts = datetime.combine(self.week_start(week) + timedelta(days=offset % 7), ts.time())
                self.items.append(Item("survey", ts, theme, account, contact, "survey_fatigue",
                                       repeat=n))  # fmt: skip
        return [a.account_id for a in chosen]


def _matches(where: dict, plan: str | None, region: str | None) -> bool:
    """True if plan/region satisfy every key of `where` (lists mean 'one of')."""
    for key, want in where.items():
        have = plan if key == "plan" else region if key == "region" else "has_account"
        allowed = want if isinstance(want, list) else [want]
        if have not in allowed:
            return False
    return True
