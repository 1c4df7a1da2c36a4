"""Imported once by the parse pool's fork server (`flows.processing.parse_pool`): loads what every parse
worker needs, so the workers forked from the server start warm. Importing it has that effect
on purpose and nothing else; nothing else imports it."""

from flows.processing import parse_pool  # noqa: F401  (pyarrow, connectors, transforms, the lake)
from transforms.language_model import _tables

_tables()  # the language model's tables, memory-mapped from the cache (built on first use)
