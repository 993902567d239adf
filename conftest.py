"""Tests and notebooks default to quick mode: a plain `pytest` never starts the full experiment."""

import os

os.environ.setdefault("ECGKD_QUICK", "1")
