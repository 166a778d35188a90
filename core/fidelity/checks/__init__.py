"""One module per fidelity check."""
