"""Progress of long work: a tqdm bar (``tqdm.auto``, so notebooks get a widget), a user's callback, or
nothing.

One rule everywhere: ``progress=False`` by default in the library, on in the command. ``True`` shows a
bar on stderr only when stderr is a terminal (never ``\\r`` into log files); a callable is called as
``progress(done, total)`` after each step, for frameworks that draw their own.
"""

from __future__ import annotations

import contextlib
import sys
from typing import Callable, Union

Progress = Union[bool, Callable[[int, int], None], None]


class _Callback:
    def __init__(self, function: Callable[[int, int], None], total: int):
        self.function, self.total, self.done = function, total, 0

    def update(self, n: int) -> None:
        self.done += n
        self.function(self.done, self.total)


class _Silent:
    def update(self, n: int) -> None:
        pass


@contextlib.contextmanager
def progress_bar(total: int, description: str, progress: Progress, unit: str = "it"):
    """A context whose ``update(n)`` reports ``n`` more units of ``total`` done."""
    if callable(progress) and not isinstance(progress, bool):
        yield _Callback(progress, total)
        return
    if progress is None or isinstance(progress, bool):
        if not progress or total <= 0 or not (sys.stderr.isatty() or "ipykernel" in sys.modules):
            yield _Silent()
            return
        from tqdm.auto import tqdm

        with tqdm(total=total, desc=description, unit=unit, unit_scale=True, leave=False) as bar:
            yield bar
        return
    raise TypeError(f"progress: expected True, False or a callable (done, total), got {type(progress).__name__}")
