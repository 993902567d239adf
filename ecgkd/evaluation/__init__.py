"""Evaluation: metrics (:mod:`.metrics`, all from scikit-learn) and the comparison stage
(:mod:`.stage`).

Nothing is imported here eagerly: :mod:`.metrics` is a leaf that the training loop imports, while
:mod:`.stage` imports every other stage.
"""
