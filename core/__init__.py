"""GeneRec Studio core: everything that runs without Qt (DESIGN.md section 2)."""

__version__ = "0.1.0"
