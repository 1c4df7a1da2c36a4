"""Invented accounts (with slowly changing attributes), their contacts, and the company's staff."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from flows.devtools.demo import catalog as cat


@dataclass(frozen=True)
class AccountState:
    """One row of customers.csv: the account's attributes from `valid_from` on."""

    plan: str
    arr: int
    lifecycle: str
    persona: str
    target_market: bool
    valid_from: date


@dataclass(frozen=True)
class Person:
    """A named person with an e-mail address (customer contact or staff member)."""

    first: str
    last: str
    email: str
    title: str
    persona: str = ""

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"


@dataclass
class Account:
    """A customer account; `states` are sorted by valid_from."""

    account_id: str
    name: str
    short: str
    domain: str
    region: str
    chattiness: float
    states: list[AccountState] = field(default_factory=list)
    contacts: list[Person] = field(default_factory=list)

    def state_at(self, day: date) -> AccountState:
        """The attributes valid on `day` (the first row if `day` precedes them all)."""
        current = self.states[0]
        for state in self.states:
            if state.valid_from <= day:
                current = state
        return current


def _target(plan: str, region: str, rng: random.Random) -> bool:
    core = region in ("NA", "EMEA")
    if plan in ("business", "enterprise"):
        return rng.random() < (0.85 if core else 0.15)
    return plan == "pro" and core and rng.random() < 0.05


def _arr(plan: str, rng: random.Random) -> int:
    low, high = cat.ARR_RANGE[plan]
    if high == 0:
        return 0
    value = math.exp(rng.uniform(math.log(low), math.log(high)))
    step = 1000 if plan == "enterprise" else 100
    return int(round(value / step) * step)


def _lifecycle(plan: str, rng: random.Random) -> str:
    if plan == "free":
        weights = (0.25, 0.1, 0.5, 0.05, 0.1)
    elif plan == "pro":
        weights = (0.05, 0.1, 0.68, 0.1, 0.07)
    else:
        weights = (0.0, 0.1, 0.73, 0.11, 0.06)
    return rng.choices(cat.LIFECYCLES, weights)[0]


def _ascii(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def _company_names(rng: random.Random, n: int) -> list[tuple[str, str, str]]:
    """(first word, sector, domain stem) triples, unique by first word + sector."""
    seen: set[tuple[str, str]] = set()
    out: list[tuple[str, str, str]] = []
    while len(out) < n:
        word = rng.choice(cat.COMPANY_A) + rng.choice(cat.COMPANY_B)
        sector = rng.choice(cat.COMPANY_C)
        if (word, sector) in seen:
            continue
        seen.add((word, sector))
        out.append((word, sector, f"{_ascii(word)}-{_ascii(sector)}"))
    return out


def build_accounts(rng: random.Random, n: int, start: date, weeks: int) -> list[Account]:
    """About `n` accounts; ~5% get a second row (upgrade or at-risk) inside the period."""
    accounts: list[Account] = []
    for i, (word, sector, stem) in enumerate(_company_names(rng, n), start=1):
        region = rng.choices(cat.REGIONS, cat.REGION_SHARE)[0]
        plan = rng.choices(cat.PLANS, cat.PLAN_SHARE)[0]
        lifecycle = _lifecycle(plan, rng)
        persona = rng.choices(cat.PERSONAS, cat.PERSONA_SHARE)[0]
        age = rng.randint(3, 30) if lifecycle == "trial" else rng.randint(45, 1400)
        state = AccountState(plan, _arr(plan, rng), lifecycle, persona,
                             _target(plan, region, rng), start - timedelta(days=age))  # fmt: skip
        legal = rng.choice(cat.LEGAL[region])
        account = Account(f"acc_{i:04d}", f"{word} {sector} {legal}", word, f"{stem}.example",
                          region, round(math.exp(rng.gauss(0, 0.5)), 3), [state])  # fmt: skip
        n_contacts = {"free": 1, "pro": 2, "business": 4, "enterprise": 7}[plan]
        account.contacts = _contacts(rng, account, n_contacts + rng.randint(0, 2), persona)
        accounts.append(account)
    _add_changes(rng, accounts, start, weeks)
    return accounts


def _contacts(rng: random.Random, account: Account, n: int, first_persona: str) -> list[Person]:
    people: list[Person] = []
    used: set[str] = set()
    while len(people) < n:
        first, last = rng.choice(cat.FIRST_NAMES), rng.choice(cat.LAST_NAMES)
        email = f"{_ascii(first)}.{_ascii(last)}@{account.domain}"
        if email in used:
            continue
        used.add(email)
        persona = first_persona if not people else rng.choices(cat.PERSONAS, cat.PERSONA_SHARE)[0]
        people.append(Person(first, last, email, cat.TITLES[persona], persona))
    return people


def _add_changes(rng: random.Random, accounts: list[Account], start: date, weeks: int) -> None:
    """Give ~5% of accounts a later row: pro -> business upgrades and active -> at_risk."""
    n_changes = max(2, round(len(accounts) * 0.05))
    upgrades = [
        a for a in accounts if a.states[0].plan == "pro" and a.states[0].lifecycle == "active"
    ]
    risky = [
        a for a in accounts if a.states[0].plan != "free" and a.states[0].lifecycle == "active"
    ]
    chosen_up = rng.sample(upgrades, min(len(upgrades), n_changes // 2))
    pool = [a for a in risky if a not in chosen_up]
    chosen_risk = rng.sample(pool, min(len(pool), n_changes - len(chosen_up)))
    for account in chosen_up + chosen_risk:
        old = account.states[0]
        week = rng.randint(3, max(3, weeks - 2))
        valid = start + timedelta(days=7 * (week - 1))
        if account in chosen_up:
            new = AccountState("business", _arr("business", rng), "active", old.persona,
                               _target("business", account.region, rng), valid)  # fmt: skip
        else:
            new = AccountState(old.plan, old.arr, "at_risk", old.persona, old.target_market, valid)
        account.states.append(new)


def build_staff() -> list[Person]:
    """The product company's own staff (authors of internal notes)."""
    return [
        Person(first, last, f"{_ascii(first)}.{_ascii(last)}@{cat.COMPANY_DOMAIN}", title)
        for first, last, title in cat.STAFF
    ]


def customer_rows(accounts: list[Account]) -> list[dict[str, str]]:
    """The rows of customers.csv, sorted by account and valid_from."""
    rows = []
    for account in sorted(accounts, key=lambda a: a.account_id):
        for s in account.states:
            rows.append(
                {
                    "account_id": account.account_id,
                    "account_name": account.name,
                    "plan": s.plan,
                    "arr": str(s.arr),
                    "region": account.region,
                    "lifecycle": s.lifecycle,
                    "persona": s.persona,
                    "target_market": "true" if s.target_market else "false",
                    "valid_from": s.valid_from.isoformat(),
                    "domains": account.domain,
                }
            )
    return rows


def segments_of(plan: str | None, region: str | None) -> list[str]:
    """Segment names (as in chorus.yaml) for a plan/region; no account means 'free'."""
    out = []
    for name, rule in cat.SEGMENTS.items():
        ok = True
        for key, want in rule.items():
            have = plan if key == "plan" else region
            allowed = want if isinstance(want, list) else [want]
            ok = ok and have in allowed
        if ok:
            out.append(name)
    return out
