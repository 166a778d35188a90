"""Recommender: predicted preference of users for items (MMGCN arrives with its own issue)."""
