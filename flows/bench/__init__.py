"""`make bench`: Chorus measured side by side against what a user would do instead.

Each module here exposes `run(quick: bool = False) -> dict[str, float]`, prints its own table
and returns the figures that go into the closing `bench:` line (see `flows/bench/__main__.py`).
Ratios are taken against a baseline run in the same process, never as absolute timing asserts.
"""
