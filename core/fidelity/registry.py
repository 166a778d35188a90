"""The checks that run on every generation, in the order the review panel shows them.
Safety, bias and fairness, and identifiability (watermark, provenance) are still to come."""
from core.fidelity.checks import authenticity, legal, privacy

CHECKS = [privacy, authenticity, legal]
