"""Turn scheduled items into source records shaped like each vendor's export."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta

from flows.devtools.demo import catalog as cat
from flows.devtools.demo import texts as tx
from flows.devtools.demo.people import Person
from flows.devtools.demo.schedule import Item


def iso(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


class Renderer:
    """Fills `item.fields` (the record), `item.pii` and `item.language` per source kind."""

    def __init__(self, rng: random.Random, staff: list[Person], start: datetime, weeks: int,
                 end: datetime) -> None:  # fmt: skip
        self.rng, self.staff, self.start, self.weeks, self.end = rng, staff, start, weeks, end
        recent_from = weeks - 3
        self.releases = [(v, recent_from if f is None else 1 + round(f * (weeks - 1)))
                         for v, f in cat.RELEASES]  # fmt: skip

    def week_of(self, ts: datetime) -> int:
        return (ts - self.start).days // 7 + 1

    def sentiment(self, item: Item) -> str:
        return "any" if item.theme == "noise" else cat.THEMES[item.theme]["sentiment"]

    def render(self, item: Item) -> None:
        # one identity provider / browser per item, so subject and body agree
        self.ctx = {"idp": self.rng.choice(cat.IDPS), "browser": self.rng.choice(cat.BROWSERS)}
        getattr(self, f"_{item.kind}")(item)

    def _body(self, item: Item, size: str, ctx: dict[str, str]) -> list[str]:
        """Theme sentences for the item."""
        return tx.sentences(self.rng, item.theme, size, {**self.ctx, **ctx})

    def _pii(self, item: Item, rate: float = cat.PII_RATE) -> list[str]:
        """Sometimes a sentence with personal data (its kinds go to `item.pii`)."""
        out = []
        for kind in tx.maybe_pii(self.rng, item.kind, item.account, rate):
            out.append(tx.pii_sentence(self.rng, kind, item.account))
            item.pii.append(kind)
        return out

    # -- support -------------------------------------------------------------------------
    def _support(self, item: Item) -> None:
        rng, contact, account = self.rng, item.contact, item.account
        assert contact is not None and account is not None
        via = rng.choices(["email", "web", "chat"], (0.5, 0.35, 0.15))[0]
        if item.theme == "noise":
            text = rng.choice(cat.NOISE["support"])
            subject = rng.choice(
                ["test", "(no subject)", "Re: your request", "Question", text[:40]]
            )
            description = f"<p>{text}</p>" if via == "email" else text
            tags: list[str] = []
        else:
            subject = tx.fill(tx.pick(rng, item.theme, "subjects"), rng, self.ctx)
            body = self._body(item, tx.size_for(rng, "support"), {})
            description = self._description(item, via, body, self._pii(item))
            meta = cat.THEMES[item.theme]
            tags = sorted(rng.sample(meta["tags"], rng.randint(1, len(meta["tags"]))))
            tags = tags if rng.random() < 0.8 else []
        if via == "chat":
            subject = f"Chat with {contact.name}"
        plan = item.state.plan if item.state else "free"
        if plan in ("business", "enterprise") and rng.random() < 0.5:
            tags = sorted({*tags, f"plan_{plan}"})
        created = item.ts
        first_update = min(
            created + timedelta(minutes=rng.randint(2, 1200)), self._week_end(created)
        )
        update_at = created + timedelta(days=rng.randint(2, 12), minutes=rng.randint(0, 900))
        has_update = (rng.random() < 0.12 and update_at <= self.end
                      and self.week_of(update_at) > self.week_of(created))  # fmt: skip
        if has_update:
            status = rng.choice(["new", "open", "pending"])
        else:
            status = rng.choices(
                ["solved", "closed", "open", "pending", "new"], (55, 15, 15, 10, 5)
            )[0]
        item.fields = {
            "id": 0,
            "subject": subject,
            "description": description,
            "requester_email": contact.email,
            "organization_id": account.account_id,
            "created_at": iso(created),
            "updated_at": iso(first_update),
            "status": status,
            "tags": tags,
            "satisfaction_score": self._csat(status),
            "via": via,
        }
        if has_update:
            status2 = rng.choice(
                [x for x in ("solved", "solved", "closed", "pending") if x != status]
            )
            item.fields["_update"] = {
                "updated_at": iso(update_at),
                "status": status2,
                "satisfaction_score": self._csat(status2, 0.6),
                "tags": sorted({*tags, "escalated"}) if rng.random() < 0.3 else tags,
            }

    def _week_end(self, ts: datetime) -> datetime:
        return self.start + timedelta(days=7 * self.week_of(ts), seconds=-1)

    def _csat(self, status: str, rate: float = 0.45) -> int | None:
        if status not in ("solved", "closed") or self.rng.random() >= rate:
            return None
        return self.rng.choices([1, 2, 3, 4, 5], (8, 5, 10, 30, 47))[0]

    def _description(self, item: Item, via: str, body: list[str], pii: list[str]) -> str:
        rng, contact, account = self.rng, item.contact, item.account
        assert contact is not None and account is not None
        if via == "chat":
            return " ".join([tx.typos(rng, " ".join(body[:2]), 0.04), *pii])
        body = body + pii
        paragraphs = [rng.choice(cat.OPENERS)] if rng.random() < 0.8 else []
        split = max(1, len(body) // 2) if len(body) > 2 else len(body)
        paragraphs += [" ".join(body[:split])] + ([" ".join(body[split:])] if body[split:] else [])
        if len(body) > 3 and rng.random() < 0.6:
            extra = rng.sample(tx.BACKGROUND, rng.randint(1, 2))
            paragraphs.insert(
                rng.randint(1, len(paragraphs)), " ".join(tx.fill(e, rng, {}) for e in extra)
            )
        if len(body) > 3 and cat.THEMES[item.theme]["sentiment"] == "neg" and rng.random() < 0.4:
            env = f"{rng.choice(cat.BROWSERS)} on {rng.choice(['Windows 11', 'macOS 15', 'macOS 26'])}"
            paragraphs.append(f"Environment: {env}\nWorkspace: {account.short.lower()}")
        if via == "email" and rng.random() < 0.4:
            sig, kinds = tx.signature(rng, contact, account.name)
            paragraphs.append(sig)
            item.pii += kinds
        else:
            paragraphs.append(f"{rng.choice(cat.CLOSINGS)},\n{contact.first}")
        if via == "web":
            return "\n\n".join(paragraphs)
        quote = tx.quoted_reply(rng, item.ts, contact.first) if rng.random() < 0.08 else None
        if quote:
            item.pii.append("email")
        if rng.random() < 0.75:
            return tx.to_html(paragraphs, quote)
        return "\n\n".join(paragraphs + (["\n".join(quote)] if quote else []))

    # -- app store reviews ---------------------------------------------------------------
    def _review(self, item: Item) -> None:
        rng = self.rng
        territory = rng.choices(list(cat.TERRITORIES), list(cat.TERRITORIES.values()))[0]
        version = item.version or self._app_version(self.week_of(item.ts))
        sentiment = self.sentiment(item)
        rating = tx.rating_for(rng, sentiment)
        title = ""
        if item.theme == "noise":
            body = rng.choice(cat.NOISE["review"])
        else:
            lang, p = cat.TERRITORY_LANG.get(territory, ("en", 0.0))
            i18n = cat.PHRASES[item.theme].get("i18n", {})
            if lang in i18n and rng.random() < p:
                item.language = lang
                body, title = rng.choice(i18n[lang]), tx.I18N_TITLES[lang][sentiment]
            else:
                body, title = self._review_en(item, version, sentiment, rating)
        item.fields = {
            "review_id": "",
            "date": iso(item.ts),
            "rating": rating,
            "title": title,
            "body": body,
            "app_version": version,
            "territory": territory,
            "reviewer_nickname": self._nickname(),
        }

    def _review_en(self, item: Item, version: str, sentiment: str, rating: int) -> tuple[str, str]:
        rng, ctx = self.rng, {"version": version}
        size = tx.size_for(rng, "review")
        short = tx.fill(tx.pick(rng, item.theme, "short"), rng, ctx)
        if size == "short":
            parts = [short]
        elif size == "medium":
            lead = short[0].upper() + short[1:]
            lead = lead if lead[-1] in ".!?" else lead + "."
            parts = [lead] + self._body(item, "short", ctx)
        else:
            parts = self._body(item, "long", ctx)
        body = " ".join(parts)
        body = tx.typos(rng, body) if rng.random() < 0.45 else body
        if sentiment == "neg" and rng.random() < 0.25:
            body += rng.choice(["!!", " :(", "!!!", " smh", ". 1 star until fixed"])
        body = " ".join([body, *self._pii(item, cat.PII_RATE * 0.4)])
        mood = "neg" if rating <= 2 else "pos" if rating == 5 and sentiment == "pos" else "req"
        title = rng.choice(tx.REVIEW_TITLES[mood]) if rng.random() < 0.9 else ""
        return body, title

    def _app_version(self, week: int) -> str:
        released = [v for v, w in self.releases if w <= week] or [self.releases[0][0]]
        back = self.rng.choices([0, 1, 2], (0.65, 0.2, 0.15))[0]
        return released[max(0, len(released) - 1 - back)]

    def _nickname(self) -> str:
        rng = self.rng
        if rng.random() < 0.3:
            return f"{rng.choice(cat.FIRST_NAMES)} {rng.choice(cat.LAST_NAMES)[0]}."
        return f"{rng.choice(cat.NICK_A)}{rng.choice(cat.NICK_B)}{rng.choice(['', '', str(rng.randint(1, 99))])}"

    # -- surveys -------------------------------------------------------------------------
    def _survey(self, item: Item) -> None:
        rng, state = self.rng, item.state
        assert item.contact is not None and item.account is not None and state is not None
        sentiment = self.sentiment(item)
        if item.theme == "noise":
            comment = "" if rng.random() < 0.65 else rng.choice(cat.NOISE["survey"])
        elif item.repeat:
            lead = rng.choice(cat.SURVEY_FATIGUE_LINES)
            rest = tx.fill(tx.pick(rng, item.theme, rng.choice(["short", "problems"])), rng, {})
            comment = f"{lead} {rest}" if rng.random() < 0.75 else lead
        else:
            parts = self._body(item, tx.size_for(rng, "survey"), {})
            if sentiment == "req" and rng.random() < 0.3:
                parts.insert(0, "Would be a 10 with one change:")
            comment = " ".join(parts)
            comment = tx.typos(rng, comment, 0.04) if rng.random() < 0.2 else comment
            comment = " ".join([comment, *self._pii(item)])
        onboarding = state.lifecycle in ("trial", "onboarding") and rng.random() < 0.7
        item.fields = {
            "response_id": "",
            "submitted_at": iso(item.ts),
            "account_id": item.account.account_id,
            "respondent_email": item.contact.email,
            "nps": tx.rating_for(rng, sentiment, "nps"),
            "comment": comment,
            "survey": "Onboarding CSAT" if onboarding else "Quarterly NPS",
        }

    # -- beta feedback -------------------------------------------------------------------
    def _beta(self, item: Item) -> None:
        rng = self.rng
        assert item.contact is not None and item.account is not None
        week = self.week_of(item.ts)
        line = [b for b in cat.BETA_BUILDS if 1 + round(b[2] * (self.weeks - 1)) <= week][-1]
        line_week = 1 + round(line[2] * (self.weeks - 1))
        build = f"{line[0]} ({line[1] + 6 * (week - line_week) + rng.randint(0, 5)})"
        device = rng.choice(cat.DEVICES)
        ctx = {"device": device, "build": build, "version": line[0]}
        if item.theme == "noise":
            comment = rng.choice(cat.NOISE["beta"])
        else:
            prefix = tx.fill(rng.choice(cat.BETA_PREFIXES), rng, ctx)
            comment = prefix + " ".join(self._body(item, tx.size_for(rng, "beta"), ctx))
            comment = tx.typos(rng, comment, 0.05) if rng.random() < 0.3 else comment
            comment = " ".join([comment, *self._pii(item)])
        os_version = rng.choice(
            [v for v in cat.IOS_VERSIONS if v.startswith("iPad") == device.startswith("iPad")]
        )
        item.fields = {
            "feedback_id": "",
            "timestamp": iso(item.ts),
            "tester_email": item.contact.email,
            "account_id": item.account.account_id,
            "app_version": build,
            "device_model": device,
            "os_version": os_version,
            "comment": comment,
        }

    # -- internal sales notes ------------------------------------------------------------
    def owner(self, item: Item) -> Person:
        assert item.account is not None
        if self.rng.random() < 0.7:
            return self.staff[int(item.account.account_id[4:]) % len(self.staff)]
        return self.rng.choice(self.staff)

    def _context(self, item: Item) -> str:
        """An account-context sentence for internal notes (ARR from the account)."""
        arr = item.state.arr if item.state else 0
        line = self.rng.choice(cat.INTERNAL_CONTEXT)
        if "{arr}" in line and not arr:
            return "Free plan, evaluating an upgrade."
        return tx.fill(line, self.rng, {"arr": str(max(1, round(arr / 1000)))})

    def _internal(self, item: Item) -> None:
        rng = self.rng
        assert item.contact is not None and item.account is not None
        if item.theme == "noise":
            text = rng.choice(cat.NOISE["internal"])
        else:
            ctx = {"contact": f"{item.contact.name} ({item.contact.title})"}
            parts = [tx.fill(rng.choice(cat.INTERNAL_OPENERS), rng, ctx),
                     tx.fill(tx.pick(rng, item.theme, "internal"), rng, ctx)]  # fmt: skip
            if rng.random() < 0.5:
                parts.append(self._context(item))
            parts += self._pii(item)
            text = " ".join(p for p in parts if p)
        item.fields = {
            "note_id": "",
            "logged_at": iso(item.ts),
            "author_email": self.owner(item).email,
            "account_id": item.account.account_id,
            "text": text,
            "is_internal": "true",
        }

    # -- meeting notes -------------------------------------------------------------------
    def _notes(self, item: Item) -> None:
        rng, account, contact = self.rng, item.account, item.contact
        assert account is not None and contact is not None
        kind = rng.choice(sorted(cat.NOTE_KINDS))
        label = cat.THEMES[item.theme]["label"] if item.theme != "noise" else "General"
        topic = label if label[:2].isupper() else label[0].lower() + label[1:]
        title = rng.choice([f"{account.short} {cat.NOTE_KINDS[kind]}",
                            f"{cat.NOTE_KINDS[kind]}: {account.short} – {topic}"])  # fmt: skip
        owner = self.owner(item)
        others = [c for c in account.contacts if c != contact][: rng.randint(0, 2)]
        attendees = [f"{p.name} ({account.short})" for p in [contact, *others]]
        attendees.append(f"{owner.name} (Chorus)")
        body = self._body(item, "long", {})
        body = body[:-1] + self._pii(item) + body[-1:]
        lines = [f"# {title}", "", "## Context"]
        lines += [f"- {self._context(item)}",
                  f"- {rng.randint(5, 400)} active users, plan {item.state.plan if item.state else '?'}"]  # fmt: skip
        lines += ["", "## What we heard", f"- {contact.first}: {body[0]}"]
        lines += [f"- {s}" for s in body[1:-1]]
        lines += ["", "## Asks", f"- {body[-1]}", "", "## Next steps",
                  f"- [ ] {owner.first} to follow up with product on {topic}",
                  f"- [ ] Share notes with {contact.first} by {rng.choice(tx.WEEKDAYS)}"]  # fmt: skip
        front = ["---", f"title: {json.dumps(title, ensure_ascii=False)}",
                 f"date: {item.ts.date().isoformat()}", f"account: {account.account_id}",
                 f"kind: {kind}", f"attendees: {json.dumps(attendees, ensure_ascii=False)}", "---"]  # fmt: skip
        item.fields = {"markdown": "\n".join(front + [""] + lines) + "\n", "kind": kind}
