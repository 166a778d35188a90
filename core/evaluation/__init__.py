"""Evaluation: Cosine@K (paper and held-out protocols), preference hit rate, reports."""

# the diffusion tasks that `generec evaluate` can measure (core.evaluation.generative)
GENERATIVE_TASKS = ("revision", "creation", "thumbnail_generation")
