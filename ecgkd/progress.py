"""Progress bars: one place decides how they look.

``tqdm.auto`` draws one updating bar: a widget in JupyterLab, a redrawn line in a terminal. Where a
notebook is executed to be stored (the book's build), every frame of a bar would be kept in
the page, so the Makefile sets ``ECGKD_PROGRESS=0`` there and no bar is drawn
(:func:`ecgkd.config.progress_enabled`).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TypeVar

from .config import progress_enabled

T = TypeVar("T")


def progress_bar(
    iterable: Iterable[T],
    desc: str,
    enabled: bool = True,
    total: int | None = None,
    leave: bool = True,
) -> Iterable[T]:
    """Wrap ``iterable`` in a tqdm bar, or return it untouched when not ``enabled`` or bars are
    off."""
    if not enabled or not progress_enabled():
        return iterable
    from tqdm.auto import tqdm

    return tqdm(
        iterable,
        desc=desc,
        total=total,
        leave=leave,
        file=sys.stderr,
        dynamic_ncols=True,
        mininterval=0.5,
    )
