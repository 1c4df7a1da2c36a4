"""Where Chorus caches what it builds once per machine (the int8 ONNX model, the language
model's decoded tables): $XDG_CACHE_HOME/chorus, else ~/.cache/chorus."""

from __future__ import annotations

import os
from pathlib import Path


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "chorus"
