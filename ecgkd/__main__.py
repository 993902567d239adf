"""``python -m ecgkd``: see :mod:`ecgkd.cli`."""

from .cli import main

raise SystemExit(main())
