"""Progress bars: one place decides how they look.

Plain-text tqdm on stderr: it renders in a terminal, in JupyterLab, and in an executed notebook or the
book (a widget bar would be stored as an empty "0%" there).
"""

from __future__ import annotations

from typing import Iterable, TypeVar

T = TypeVar("T")


def progress_bar(iterable: Iterable[T], desc: str, enabled: bool = True, total: int | None = None,
                 leave: bool = True) -> Iterable[T]:
    """Wrap ``iterable`` in a text tqdm bar, or return it untouched when not ``enabled``."""
    if not enabled:
        return iterable
    import sys

    from tqdm.std import tqdm

    # A terminal redraws one line; elsewhere (Jupyter, an executed notebook, a log) every refresh is kept,
    # so refresh rarely there.
    interval = 0.5 if sys.stderr.isatty() else 10.0
    return tqdm(iterable, desc=desc, total=total, leave=leave, file=sys.stderr, ncols=90, mininterval=interval)
