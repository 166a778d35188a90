"""Recommender: predicted preference of users for items (MMGCN and the baselines)."""

# The models the leave-one-out protocol compares (core/recommender/loo_train.py), importable
# without torch.
LOO_MODELS = ("Popularity", "BPR-MF", "LightGCN", "MMGCN", "SASRec")
