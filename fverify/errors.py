"""The one exception type users see, and the way its messages are built."""
from __future__ import annotations

from os import PathLike


class FverifyError(Exception):
    """A failure the user can fix: bad input, a missing file, a wrong setting.

    The message says what is wrong, where (``file:line`` when a file is to blame) and what to
    do. The CLI prints it without a traceback and exits with status 2; anything else that
    escapes is a bug in fverify.
    """

    def __init__(self, what: str, *, where: str | None = None, fix: str | None = None):
        self.what = what
        self.where = where
        self.fix = fix
        message = f"{where}: {what}" if where else what
        if fix:
            message = f"{message}\n  -> {fix}"
        super().__init__(message)


def at(path: str | PathLike[str], line: int | None = None) -> str:
    """Location string ``path:line`` (or just ``path``) for :class:`FverifyError` messages."""
    return f"{path}:{line}" if line is not None else str(path)
