"""The lake's error: a write that failed, with what it means and how to fix it."""

from __future__ import annotations

import errno
import os


class LakeWriteError(OSError):
    """A lake file could not be written (disk full, permission denied...); nothing of it is visible."""

    def __init__(self, path: str, exc: OSError) -> None:
        code = exc.errno or 0
        meaning = exc.strerror or str(exc)
        super().__init__(code, meaning, path)
        what = errno.errorcode.get(code, type(exc).__name__)
        fix = {
            errno.ENOSPC: "free space on the lake's disk",
            errno.EDQUOT: "free space or raise this user's disk quota",
            errno.EFBIG: "raise the file-size limit (ulimit -f) of this process",
            errno.EACCES: "give this user write access to the lake folder",
            errno.EPERM: "give this user write access to the lake folder",
            errno.EROFS: "mount the lake's file system read-write",
        }.get(code, "fix the cause")
        other = exc.filename if isinstance(exc.filename, str) else None
        where = (
            f" (at {other})"
            if other and other != path and not os.path.basename(other).startswith(".tmp-")
            else ""
        )
        self.message = (
            f"could not write {path}: {meaning} [{what}]{where}. Nothing of it was committed: "
            "the file was left as it was, and cursors and processed-batch state are saved only "
            "after the data they cover, so the lake is consistent and the unfinished work is "
            f"still pending. {fix[0].upper()}{fix[1:]}, then re-run the same step."
        )

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple:  # pickled by Prefect with a task's failed state
        return _rebuilt, (self.filename, self.errno, self.strerror, self.message)


def _rebuilt(path: str, code: int, meaning: str, message: str) -> LakeWriteError:
    err = LakeWriteError(path, OSError(code, meaning))
    err.message = message
    return err
