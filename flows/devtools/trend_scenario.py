"""A planted-trend scenario from real utterances (CLINC150 or HWU64), fed through the file drop.

Twelve weeks of feedback from accounts in several segments (a customers table beside it), one
CSV per week, so a run can take all twelve at once or one week at a time. Planted, from the
seed: two intents rising in one segment each, one intent appearing from nothing, one fading,
and three decoys that must not be flagged (one person repeating themselves 40 times, a push by
internal staff, a spike of near-duplicate spam from throw-away addresses). With `null=True`
nothing is planted: every intent keeps its rate, which is what a false-flag rate is measured on.

Only the generator lives here; `flows/devtools/evaluate.py` runs the pipeline and scores it.
"""

from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

START = datetime(2026, 6, 1, tzinfo=UTC)  # a Monday: week k covers START + 7k days
WEEKS = 12
RECENT = 4  # the planted changes happen in the last RECENT weeks
SEGMENTS = ("enterprise", "mid_market", "smb", "emea")
INTERNAL_DOMAIN = "chorus-staff.example"
PLANS = (("enterprise", 0.2, 120_000), ("business", 0.3, 25_000), ("pro", 0.5, 3_000))
REGIONS = ("NA", "EMEA", "APAC")


@dataclass
class Scenario:
    """What was written and what was planted (the truth the scores are computed against)."""

    root: Path
    dataset: str
    seed: int
    null: bool
    week_files: list[Path]
    truth: dict[str, Any] = field(default_factory=dict)

    @property
    def config(self) -> Path:
        return self.root / "chorus.yaml"


def clinc_pools(folder: Path) -> dict[str, list[str]]:
    """intent -> its in-scope utterances (train, val and test splits of CLINC150)."""
    data = json.loads((folder / "data_full.json").read_text(encoding="utf-8"))
    pools: dict[str, list[str]] = {}
    for split in ("train", "val", "test"):
        for text, intent in data[split]:
            pools.setdefault(intent, []).append(text)
    return pools


def hwu_pools(folder: Path) -> dict[str, list[str]]:
    """intent -> its utterances (every fold of HWU64)."""
    pools: dict[str, list[str]] = {}
    with open(folder / "hwu64.csv", encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            pools.setdefault(row["intent"], []).append(row["text"])
    return pools


@dataclass
class _Account:
    account_id: str
    plan: str
    region: str
    arr: int
    people: list[str]


def _accounts(rng: random.Random, n: int) -> list[_Account]:
    out = []
    for i in range(n):
        plan, _, arr = rng.choices(PLANS, weights=[share for _, share, _ in PLANS])[0]
        aid = f"acct-{i:04d}"
        people = [f"person{j}@{aid}.example" for j in range(rng.randint(1, 4))]
        region = rng.choices(REGIONS, weights=(0.5, 0.35, 0.15))[0]
        out.append(_Account(aid, plan, region, int(arr * rng.uniform(0.5, 1.5)), people))
    return out


def _spam_variant(text: str, rng: random.Random, i: int) -> str:
    """A near-duplicate: the same request with the small edits a spam run makes."""
    edits = [
        lambda t: t + "!!",
        lambda t: t.upper(),
        lambda t: t + f" #{rng.randint(100, 999)}",
        lambda t: "pls " + t,
        lambda t: t.replace(" ", "  ", 1),
        lambda t: t + " asap",
        lambda t: t.rstrip("?.!") + "???",
    ]
    return rng.choice(edits)(text) if i else text


def build_scenario(
    root: Path,
    pools: dict[str, list[str]],
    dataset: str,
    seed: int,
    null: bool = False,
    background: int = 36,
    rate: float = 8.0,
    n_accounts: int = 200,
) -> Scenario:
    """Write the weekly files, customers table and config under `root`; return what was planted."""
    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    intents = sorted(i for i, texts in pools.items() if len(texts) >= 60)
    rng.shuffle(intents)
    chosen = intents[: background + 4]
    steady, (rise_a, rise_b, emerging, fading) = chosen[:background], chosen[background:]
    repeat_decoy, internal_decoy, spam_decoy = steady[0], steady[1], steady[2]
    bags = {i: rng.sample(pools[i], len(pools[i])) for i in chosen}
    used = {i: 0 for i in chosen}

    def utterance(intent: str) -> str:
        bag = bags[intent]
        text = bag[used[intent] % len(bag)]
        used[intent] += 1
        return text

    accounts = _accounts(rng, n_accounts)
    by_plan = {p: [a for a in accounts if a.plan == p] for p, _, _ in PLANS}
    staff = [f"staff{j}@{INTERNAL_DOMAIN}" for j in range(5)]
    rows: list[dict[str, Any]] = []
    roles: dict[str, str] = {}

    def add(week: int, intent: str, role: str, account: _Account | None, email: str, text: str):
        ts = START + timedelta(days=7 * week, seconds=rng.randrange(7 * 86400))
        sid = f"{dataset}-{seed}-{len(rows):06d}"
        rows.append(
            {
                "id": sid,
                "created_at": ts.isoformat().replace("+00:00", "Z"),
                "text": text,
                "account_id": account.account_id if account else "",
                "email": email,
                "week": week,
                "intent": intent,
                "role": role,
            }
        )
        roles.setdefault(intent, role)

    def from_accounts(week: int, intent: str, role: str, lam: float, pool: list[_Account]):
        for _ in range(int(nrng.poisson(lam))):
            acct = rng.choice(pool)
            add(week, intent, role, acct, rng.choice(acct.people), utterance(intent))

    recent = range(WEEKS - RECENT, WEEKS)
    for week in range(WEEKS):
        for intent in steady:
            from_accounts(week, intent, "steady", rate, accounts)
        if null:
            for intent in (rise_a, rise_b, fading):
                from_accounts(week, intent, "steady", rate, accounts)
            continue
        from_accounts(week, rise_a, "rising", rate * 0.75, accounts)
        from_accounts(week, rise_b, "rising", rate * 0.75, accounts)
        if week in recent:
            from_accounts(week, rise_a, "rising", rate * 1.5, by_plan["enterprise"])
            from_accounts(week, rise_b, "rising", rate * 1.5, by_plan["pro"])
            from_accounts(week, emerging, "emerging", rate * 1.75, accounts)
        from_accounts(week, fading, "fading", rate * (0.15 if week in recent else 1.5), accounts)
    if not null:
        # decoys, in the last three weeks: none of them is a change in what customers ask for
        repeater = rng.choice(by_plan["pro"])
        person = repeater.people[0]
        for k in range(40):
            add(
                WEEKS - 3 + k % 3,
                repeat_decoy,
                "decoy_repeat",
                repeater,
                person,
                utterance(repeat_decoy),
            )
        for k in range(40):
            add(
                WEEKS - 3 + k % 3,
                internal_decoy,
                "decoy_internal",
                None,
                rng.choice(staff),
                utterance(internal_decoy),
            )
        spam_text = utterance(spam_decoy)
        for k in range(40):
            add(
                WEEKS - 2 + k % 2,
                spam_decoy,
                "decoy_spam",
                None,
                f"u{rng.randrange(10**8)}@mailinator.example",
                _spam_variant(spam_text, rng, k),
            )
    return _write(root, dataset, seed, null, rows, accounts, {
        "rising": {rise_a: ["enterprise"], rise_b: ["smb"]},
        "emerging": [emerging],
        "fading": [fading],
        "decoys": {"repeat": repeat_decoy, "internal": internal_decoy, "spam": spam_decoy},
    })  # fmt: skip


def _write(
    root: Path,
    dataset: str,
    seed: int,
    null: bool,
    rows: list[dict[str, Any]],
    accounts: list[_Account],
    planted: dict[str, Any],
) -> Scenario:
    inbox = root / "inbox" / "feedback"
    inbox.mkdir(parents=True, exist_ok=True)
    (root / "truth").mkdir(exist_ok=True)
    week_files = []
    fields = ["id", "created_at", "text", "account_id", "email"]
    for week in range(WEEKS):
        path = root / "weeks" / f"week-{week + 1:02d}.csv"
        path.parent.mkdir(exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=fields, extrasaction="ignore")
            w.writeheader()
            w.writerows(r for r in rows if r["week"] == week)
        week_files.append(path)
    with open(root / "truth" / "items.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(
            fh, fieldnames=["source_id", "intent", "role", "week"], extrasaction="ignore"
        )
        w.writeheader()
        w.writerows({"source_id": r["id"], **r} for r in rows)
    with open(root / "customers.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["account_id", "account_name", "plan", "arr", "region", "lifecycle", "persona",
                    "target_market", "valid_from", "domains"])  # fmt: skip
        for a in accounts:
            tm = "true" if a.plan in ("enterprise", "business") else "false"
            w.writerow([a.account_id, f"Account {a.account_id[-4:]}", a.plan, a.arr, a.region,
                        "customer", "admin", tm, "2025-01-01", f"{a.account_id}.example"])  # fmt: skip
    (root / "chorus.yaml").write_text(CONFIG, encoding="utf-8")
    truth = {"dataset": dataset, "seed": seed, "null": null, "segments": ["all", *SEGMENTS]}
    truth.update({} if null else planted)
    (root / "truth" / "planted.json").write_text(json.dumps(truth, indent=2), encoding="utf-8")
    return Scenario(root, dataset, seed, null, week_files, truth)


def deliver(scenario: Scenario, weeks: int) -> None:
    """Put the first `weeks` weekly files into the drop folder (as a user's export job would)."""
    inbox = scenario.root / "inbox" / "feedback"
    for path in scenario.week_files[:weeks]:
        target = inbox / path.name
        if not target.exists():
            target.write_bytes(path.read_bytes())


CONFIG = f"""\
# Planted-trend scenario (flows/devtools/trend_scenario.py): real utterances, invented accounts.
lake: lake
reports: reports
sources:
  - name: feedback
    type: file_drop
    source_kind: support
    path: inbox/feedback/*.csv
    format: csv
    columns: {{source_id: id, created_at: created_at, text: text, account_id: account_id, customer_id: email}}
customers:
  path: customers.csv
segments:
  - {{name: enterprise, where: {{plan: enterprise}}}}
  - {{name: mid_market, where: {{plan: business}}}}
  - {{name: smb, where: {{plan: pro}}}}
  - {{name: emea, where: {{region: EMEA}}}}
internal_domains: [{INTERNAL_DOMAIN}]
weighting:
  version: scenario-1
  target_market: 2.0
  internal: 0.2
  arr_log_base: 10000
  repeat_decay: 0.5
report:
  period: week
"""
