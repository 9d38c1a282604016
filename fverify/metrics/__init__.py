"""Verification metrics from pair scores: pure numpy/scipy, never torch.

``evaluation.evaluate`` is the entry point; ``threshold``, ``accuracy``, ``roc`` and
``compare`` each hold one concept.
"""
