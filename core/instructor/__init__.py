"""The instructor: instructions and feedback to a decision, an intent and guidance signals."""
