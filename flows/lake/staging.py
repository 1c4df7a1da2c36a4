"""Staging: where one task of a run leaves what a later task of the same run reads, so that
tasks pass a path instead of the data itself (and the data can cross processes and machines
the way the lake does).

A run gets a folder, ``_staging/<flow>/<run>/``; `stage` writes a value there and returns its
path, `take_staged` reads it back and deletes it. Dataset readers never look there (names
starting with '_'). The run removes its folder when it ends, however it ends; what a killed run
left is removed by the next run: on a local lake a run holds a lock while it lives (a killed
process releases it), on an object store a folder a day old counts as abandoned. Nothing staged
needs to survive a crash, so files are written plainly, without the temporary file and fsync of
the datasets' atomic writes.
"""

from __future__ import annotations

import pickle
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from typing import Any

from flows.lake.errors import LakeWriteError
from flows.lake.store import Lake

STAGING = "_staging"
ABANDONED_AFTER = timedelta(days=1)  # object stores, where no lock tells a live run
_STAMP = "%Y%m%dT%H%M%S%f"


@contextmanager
def run_staging(lake: Lake, flow: str) -> Iterator[str]:
    """A fresh staging folder for this run (its path), removed when the run ends; the folders
    that killed runs of `flow` left behind are removed first."""
    run = f"{datetime.now(UTC):{_STAMP}}-{uuid.uuid4().hex[:8]}"
    folder = lake.path(STAGING, flow, run)
    alive = _hold(lake, flow, run)  # before the folder exists: a folder without it is abandoned
    try:
        try:
            lake.fs.makedirs(folder, exist_ok=True)
        except OSError as exc:
            raise LakeWriteError(folder, exc) from exc
        _remove_abandoned(lake, flow, keep=run)
        yield folder
    finally:
        _remove(lake, folder)
        if alive is not None:
            alive.release()
            with suppress(OSError):
                lake.fs.rm_file(alive.lock_file)


def stage(lake: Lake, folder: str, value: Any) -> str:
    """Write `value` (anything picklable) into a run's staging folder; where it is."""
    path = f"{folder}/{uuid.uuid4().hex}.pickle"
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    try:
        with lake.fs.open(path, "wb") as fh:
            fh.write(data)
    except OSError as exc:
        raise LakeWriteError(path, exc) from exc
    return path


def take_staged(lake: Lake, path: str) -> Any:
    """The value `stage` wrote at `path`; the file is deleted."""
    with lake.fs.open(path, "rb") as fh:
        value = pickle.loads(fh.read())  # noqa: S301  (written by this run's own tasks)
    _remove(lake, path)
    return value


def _lock_path(lake: Lake, flow: str, run: str) -> str:
    return lake.path("_locks", f"staging-{flow}-{run}.lock")


def _hold(lake: Lake, flow: str, run: str) -> Any:
    """This run's liveness lock (local lakes; None on object stores)."""
    if not lake.local:
        return None
    from filelock import FileLock

    path = _lock_path(lake, flow, run)
    try:
        lake.fs.makedirs(lake.path("_locks"), exist_ok=True)
        lock = FileLock(path)
        lock.acquire()
    except OSError as exc:
        raise LakeWriteError(path, exc) from exc
    return lock


def _remove_abandoned(lake: Lake, flow: str, keep: str) -> None:
    try:
        folders = lake.fs.ls(lake.path(STAGING, flow), detail=False)
    except FileNotFoundError:  # an object store's "folders" exist once they hold a file
        return
    for folder in folders:
        run = folder.rstrip("/").rsplit("/", 1)[-1]
        if run == keep:
            continue
        if lake.local:
            from filelock import FileLock, Timeout

            lock = FileLock(_lock_path(lake, flow, run), timeout=0)
            try:
                lock.acquire()
            except Timeout:
                continue  # a live run's
            try:
                _remove(lake, folder)
            finally:
                lock.release()
                with suppress(OSError):
                    lake.fs.rm_file(lock.lock_file)
        else:
            try:
                started = datetime.strptime(run.split("-", 1)[0], _STAMP).replace(tzinfo=UTC)
            except ValueError:
                continue  # not a run's folder
            if datetime.now(UTC) - started > ABANDONED_AFTER:
                _remove(lake, folder)


def _remove(lake: Lake, path: str) -> None:
    """Delete a staged file or folder; one that cannot be deleted is left to a later run."""
    with suppress(OSError):
        lake.fs.rm(path, recursive=True)
