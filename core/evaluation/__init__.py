"""Evaluation: Cosine@K (paper and held-out protocols), preference hit rate, reports."""
