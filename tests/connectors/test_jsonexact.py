"""JSON parsing keeps integers of any size exact, and long digit runs in strings stay fast."""

import json

import pytest

from connectors.common.jsonexact import loads_exact, may_hold_long_integer


@pytest.mark.parametrize(
    "doc",
    [
        {"id": 18446744073709551616},
        {"id": -9223372036854775809},
        [1, 123456789012345678901234567890],
        {"a": [0.5, {"b": 99999999999999999999}]},
        {"nested": {"x": [1, 2, 3]}, "big": 18446744073709551617},
    ],
)
def test_integers_past_64_bits_stay_exact(doc):
    body = json.dumps(doc).encode()
    assert may_hold_long_integer(body)
    assert loads_exact(body) == doc
    assert loads_exact(b"  " + json.dumps(doc, indent=2).encode()) == doc


def test_top_level_big_integer():
    assert loads_exact(b"340282366920938463463374607431768211456") == 2**128


@pytest.mark.parametrize(
    "doc",
    [
        {"landing_id": "f962fbb183229504891718483298ef92"},  # hex id with a 21-digit run
        {"text": "card 4111111111111111111 in a string"},
        {"n": 1234567890123456789.5e-3},
        {"n": 123456789012345678},  # 18 digits: fits
        {"ts": "1700000000.123456"},
    ],
)
def test_long_digit_runs_in_strings_take_the_fast_path(doc):
    body = json.dumps(doc).encode()
    assert not may_hold_long_integer(body)
    assert loads_exact(body) == doc


def test_what_orjson_refuses_still_parses_or_raises_valueerror():
    assert loads_exact(b'{"t": "\\ud800x"}') == {"t": "\ud800x"}  # lone surrogate
    with pytest.raises(ValueError):
        loads_exact(b'{"t": ')
