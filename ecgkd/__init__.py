"""ecgkd: distil the ECGFounder foundation model into small classical and quantum students.

The package holds the code; the notebooks in ``tutorials/`` tell the story. Stages, in order:
``ecgkd.data`` (real MIT-BIH and PTB-XL windows) -> teacher -> students -> evaluation.
"""

__version__ = "0.1.0"
