"""The checks that run on every generation, in the order the review panel shows them.
Identifiability is recorded by the export gate, which embeds the watermark and reads it back
from the exported file. Safety and bias and fairness are still to come."""
from core.fidelity.checks import authenticity, legal, privacy

CHECKS = [privacy, authenticity, legal]
