"""ecgkd: distil the ECGFounder foundation model into small classical and quantum students.

The package holds the code; the notebooks in ``tutorials/`` tell the story. One package per stage,
in pipeline order: :mod:`ecgkd.data` (real MIT-BIH and PTB-XL windows) -> the shared floors
(:mod:`ecgkd.train`, :mod:`ecgkd.scoring`, :mod:`ecgkd.rhythm_head`) -> :mod:`ecgkd.teacher` ->
:mod:`ecgkd.students` -> :mod:`ecgkd.quantum` -> :mod:`ecgkd.evaluation`; an earlier floor never
imports a later one (``tests/test_import_order.py``). Every notebook starts with
``cfg = ecgkd.setup()``.
"""

from typing import Any

__version__ = "0.1.0"


def setup(**overrides: Any):
    """Configuration, seeds, display options and a banner: see :func:`ecgkd.report.setup`."""
    from .report import setup as _setup

    return _setup(**overrides)
