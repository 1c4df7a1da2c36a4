"""PII redaction: corpus recall/precision per kind, hard negatives, properties, speed."""

from __future__ import annotations

import random
import string
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.pii_eval import (
    CORPUS,
    HELDOUT,
    HELDOUT_2,
    HELDOUT_3,
    corpus_rows,
    mistakes,
    pii_report,
    score_table,
    scores,
)
from transforms.redact import Redaction, redacted, redacted_texts

# The tuning corpus reaches 1.0 but for one address false positive; the floors leave slack.
THRESHOLDS = {
    "email": 0.95,
    "phone": 0.95,
    "card": 0.95,
    "iban": 0.95,
    "ip": 0.95,
    "url_token": 0.95,
    "address": 0.9,
    "name": 0.9,
}


def test_corpus_scores_meet_thresholds():
    assert len(corpus_rows(CORPUS)) >= 300
    result = scores(CORPUS)
    print("\n" + score_table(result))
    for what, kind, snippet in mistakes(CORPUS):
        print(f"  {what:<6} {kind:<9} {snippet}")
    for kind, floor in THRESHOLDS.items():
        recall, precision, support = result[kind]
        assert support >= 20, kind
        assert recall >= floor, f"{kind} recall {recall:.3f} < {floor}"
        assert precision >= floor, f"{kind} precision {precision:.3f} < {floor}"


# (recall, precision) floors on the three held-out sets pooled (398 texts). First measured
# before any fix they prompted: held-out 2 names 0.944/0.895, held-out 3 names 0.923/1.0,
# everything else 1.0 but phone precision 0.974 on held-out 1 ("number of events was
# 12345678" is still redacted). Floors sit a little under today's pooled figures.
HELDOUT_FLOORS = {
    "email": (0.95, 0.95),
    "phone": (0.95, 0.95),
    "card": (0.95, 0.95),
    "iban": (0.95, 0.95),
    "ip": (0.95, 0.95),
    "url_token": (0.9, 0.9),
    "address": (0.9, 0.9),
    "name": (0.9, 0.9),
}


def test_heldout_scores_meet_floors():
    pooled = [HELDOUT, HELDOUT_2, HELDOUT_3]
    assert len(corpus_rows(pooled)) >= 350
    result = scores(pooled)
    print("\n" + pii_report())
    for kind, (recall_floor, precision_floor) in HELDOUT_FLOORS.items():
        recall, precision, support = result[kind]
        assert support >= 25, kind
        assert recall >= recall_floor, f"{kind} recall {recall:.3f} < {recall_floor}"
        assert precision >= precision_floor, f"{kind} precision {precision:.3f}"


@pytest.mark.parametrize(
    ("text", "expected", "kinds"),
    [
        (
            "Hi Anna, mail me at anna.schmidt@example.com or call +44 20 7946 0958.",
            "Hi [NAME], mail me at [EMAIL] or call [PHONE].",
            ("name", "email", "phone"),
        ),
        ("Card 4111 1111 1111 1111 was charged", "Card [CARD] was charged", ("card",)),
        ("IBAN DE89 3704 0044 0532 0130 00, thanks", "IBAN [IBAN], thanks", ("iban",)),
        ("From 203.0.113.7 and 2001:db8::1", "From [IP] and [IP]", ("ip", "ip")),
        (
            "Open https://app.example.com/reset?token=Zx81kPq and https://example.com/docs?page=2",
            "Open [URL] and https://example.com/docs?page=2",
            ("url_token",),
        ),
        ("Ship to 123 Main Street, Springfield, IL 62704.", "Ship to [ADDRESS].", ("address",)),
        ("Lieferung an Hauptstraße 5, 10115 Berlin", "Lieferung an [ADDRESS]", ("address",)),
        ("Thanks,\nMaria", "Thanks,\n[NAME]", ("name",)),
        ("Hello Mr. Smith, ticket updated", "Hello Mr. [NAME], ticket updated", ("name",)),
        ("Hallo Jürgen,\nder Export geht nicht", "Hallo [NAME],\nder Export geht nicht", ("name",)),
        ("Great app!\n— Priya", "Great app!\n— [NAME]", ("name",)),
    ],
)
def test_redacts_each_kind(text, expected, kinds):
    assert redacted(text) == Redaction(text=expected, kinds=kinds)


@pytest.mark.parametrize(
    "phone",
    [
        "+44 20 7946 0958",
        "+49 (0)30 123456",
        "0044 20 7946 0958",
        "(415) 555-0132",
        "415.555.0132",
        "+81-3-1234-5678",
        "+91 98765 43210",
        "01 23 45 67 89",
        "06-12345678",
        "+1 415 555 0132",
        "+5511987654321",
        "0171 1234567",
        "+1 (415) 555-0132",
        "+49 30 901820",
        "06 12 34 56 78",
        "(02) 9374 4000",
        "555-0132 ext. 4",
        "+44 (0) 20 7946 0958",
        "+61 412 345 678",
        "090-1234-5678",
        "1-800-555-0199",
        "+7 495 123-45-67",
        "415-555-0132 x123",
    ],
)
def test_international_phone_formats(phone):
    assert redacted(f"Please call me on {phone} today").text == "Please call me on [PHONE] today"
    assert redacted(f"{phone}").kinds == ("phone",)


@pytest.mark.parametrize(
    "text",
    [
        "Updated to 5.2.1 and v10.3.4, build 10.0.19045.3803",
        "Happened on 2026-03-14 at 10:30, again 14/03/2026 and 14.03.2026",
        "Order #123456 and order 98765432, ticket 4521337",
        "Charged $1,299.00 instead of €129.90 (1.299,00 €)",
        "HTTP 404, then 502, error 0x80070005",
        "ISBN 978-3-16-148410-0 and 0-306-40615-2",
        "Request 550e8400-e29b-41d4-a716-446655440000 failed",
        "Version string 1.2.3.4.5, firmware v1.2.3.4, version 10.0.0.1",
        "See https://example.com/search?q=export&page=2 and www.example.org/help",
        "Hi team, Hello there! Hi all. Thanks again.",
        "Test cards 4111 1111 1111 1112 and 1234 5678 9012 3456",
        "IBAN DE12345678901234567890 has a wrong checksum",
        "MAC 00:1A:2B:3C:4D:5E, time 23:59:59, ratio 16:9",
        "We have 1 234 567 events and 12,345 users",
        "Commit 9fceb02d0ae598e95dc970b74767f19372d61af8 broke it",
        "Clone git@github.com:example/chorus.git",
        "Timestamp 1710403200000 in the log",
    ],
)
def test_hard_negatives_stay(text):
    assert redacted(text) == Redaction(text=text, kinds=())


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Card 4111-1111-1111-1111 again", "card"),
        ("Amex 3782 822463 10005 and", "card"),
        ("Amex 378282246310005 and", "card"),
        ("I paid with 5555 5555 5555 4444", "card"),
        ("Discover 6011 1111 1111 1117 declined", "card"),
        ("iban gb82 west 1234 5698 7654 32 thanks", "iban"),
        ("FR76 3000 6000 0112 3456 7890 189", "iban"),
        ("to NL91ABNA0417164300.", "iban"),
        ('Invite "john doe"@example.com failed', "email"),
        ("a.b+tag@mail.sub.example.co.uk wrote", "email"),
        ("write to jane dot doe at example dot com", "email"),
        ("from fe80::1ff:fe23:4567:890a%eth0", "ip"),
        ("mapped ::ffff:192.0.2.1 seen", "ip"),
        ("host 2001:db8::1 down", "ip"),
        ("Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.c2lnbmF0dXJlX3ZhbHVl rejected", "url_token"),
        ("key sk_live_4eC39HqLyjWDarjtT1zdp7dc leaked", "url_token"),
        ("see https://example.com/invite/8f3k2j4h5g6f7d8s9a0q1w2e now", "url_token"),
        ("Postcode SW1A 1AA is refused", "address"),
        ("Office: 8 Rue de Rivoli, 75004 Paris", "address"),
        ("Ottawa, ON K1A 0B1", "address"),
        ("hi jane, the export is broken", "name"),
        ("From: Jane Roe <jane.roe@example.com>", "name"),
        ("Done.\n-- \nRahul Verma\nAnalyst", "name"),
        ("Saludos cordiales,\nMaría de la Cruz", "name"),
        ("Hi Ngozi and Kwame, quick question", "name"),
    ],
)
def test_real_world_formats(text, kind):
    assert kind in redacted(text).kinds


@pytest.mark.parametrize(
    "text",
    [
        "Windows build v10.0.19045 and error 0x80070005",
        "Thanks Chorus, the trend view is great",  # our product, not a person (documented)
        "Thanks Zendesk for nothing",
        "Hello, Can someone help me with the export?",
        "Dear Valued Customer, your plan renews",
        "M2 2TB SSD and PS4 4GB",
        "The page https://status.example.com/errors?code=404 is broken",
        "Zoom meeting ID: 852 1234 5678, passcode 123456",
        "Order number 415 555 0132 never shipped",
        "Best,\nAcme Customer Success",
        "Grazie mille!",
        "hi all, thanks again, cheers mate",
        "Postal code field rejects 12345",
        "It took 12.5 % longer, 99.95% uptime, 3.4.5 release",
    ],
)
def test_more_hard_negatives_stay(text):
    assert redacted(text) == Redaction(text=text, kinds=())


def test_redaction_is_a_frozen_value_and_vectorised():
    r = redacted("Write to jane@example.org")
    with pytest.raises(AttributeError):
        r.text = "x"  # type: ignore[misc]
    assert redacted_texts(["a@example.com", "nothing"]) == [
        Redaction("[EMAIL]", ("email",)),
        Redaction("nothing", ()),
    ]


def _luhn(prefix: str, length: int, rnd: random.Random) -> str:
    body = prefix + "".join(rnd.choice(string.digits) for _ in range(length - len(prefix) - 1))
    for check in string.digits:
        digits = [int(c) for c in body + check]
        total = sum(
            d if i % 2 == 0 else (d * 2 - 9 if d * 2 > 9 else d * 2)
            for i, d in enumerate(reversed(digits))
        )
        if total % 10 == 0:
            return body + check
    raise AssertionError("unreachable")


_filler = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="@"),
    max_size=60,
)
_local = st.from_regex(r"[a-z][a-z0-9._+-]{0,15}[a-z0-9]", fullmatch=True)
_domain = st.sampled_from(["example.com", "example.org", "mail.example.co.uk", "example.de"])


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_total_and_idempotent_on_arbitrary_text(text):
    once = redacted(text)
    assert isinstance(once.text, str)
    assert redacted(once.text) == Redaction(once.text, ())


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "Hi ",
                "Anna",
                ", ",
                "Thanks",
                "\n",
                "+44 ",
                "20 ",
                "7946 ",
                "0958",
                "4111 ",
                "1111",
                "a@example.com",
                " ",
                ".",
                "DE89 ",
                "3704 ",
                "192.168.",
                "1.1",
                "Street",
                "12 ",
                "Main ",
                "—",
                "https://x.example.com/?token=",
                "abc",
                "::",
                "2001:db8",
                "0",
            ]
        ),
        max_size=30,
    )
)
def test_idempotent_on_pii_shaped_fragments(parts):
    once = redacted("".join(parts))
    assert redacted(once.text) == Redaction(once.text, ())


@settings(max_examples=200, deadline=None)
@given(_filler, _local, _domain, _filler, st.integers(0, 10_000))
def test_generated_emails_and_cards_never_survive(before, local, domain, after, seed):
    rnd = random.Random(seed)
    prefix, length = rnd.choice([("4", 16), ("51", 16), ("2221", 16), ("37", 15), ("6011", 16)])
    card = _luhn(prefix, length, rnd)
    email = f"{local}@{domain}"
    out = redacted(f"{before} {email} {after} card {card} {before}").text
    assert email not in out
    assert card not in out


def test_throughput_on_typical_texts():
    rnd = random.Random(7)
    rows = [text for text, _ in corpus_rows(CORPUS)]
    base = (
        "The export to CSV keeps failing since version 5.2.1 on Android 14. I tried "
        "reinstalling the app twice and cleared the cache, but the sync still hangs at 99% "
        "and the dashboard shows numbers from 2026-03-14. Please fix this, order 98765432. "
    )
    texts = [(base + (rnd.choice(rows) if i % 5 == 0 else ""))[:300] for i in range(5000)]
    start = time.perf_counter()
    redacted_texts(texts)
    per_second = len(texts) / (time.perf_counter() - start)
    print(f"\nredaction throughput: {per_second:,.0f} texts/s (300-char texts, one core)")
    assert per_second >= 2000  # the target is 5,000/s; the floor leaves room for slow CI
