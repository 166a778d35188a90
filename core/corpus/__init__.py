"""Getting content and feedback into the corpus: the importer and file parsers."""
