"""The checks that run on every generation, in the order the review panel shows them.
Identifiability is recorded by the export gate, which embeds the watermark and reads it back
from the exported file."""
from core.fidelity.checks import authenticity, fairness, legal, privacy, safety

CHECKS = [safety, privacy, authenticity, legal, fairness]
