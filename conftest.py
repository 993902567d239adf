"""Tests and notebook runs default to quick mode, so a plain `pytest` never starts the full experiment."""

import os

os.environ.setdefault("ECGKD_QUICK", "1")
