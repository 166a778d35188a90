"""Batch generation: one task for many (user, item) pairs (orders: prepare and make; run: the
one writer that records and checks)."""
