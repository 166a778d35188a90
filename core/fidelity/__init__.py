"""Fidelity checks, human review and the rules that connect them (DESIGN.md section 6)."""

# The paper's six checks, in the order the review panel shows them.
CHECK_NAMES = ("safety", "privacy", "fairness", "authenticity", "legal", "identifiability")
