"""Verification metrics from pair scores: pure numpy/scipy, never torch.

``evaluation.evaluate`` is the entry point. One concept per module: ``cuts`` (where a
``score > t`` decision can split sorted scores, and its t), ``threshold`` (k-fold threshold
search, exact and insightface's grid), ``accuracy`` (mean and labelled spreads), ``roc``
(pooled and fold-averaged ROC, AUC, EER, TAR@FAR) and ``compare`` (paired significance).
"""
