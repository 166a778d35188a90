"""Getting content and feedback into the corpus (the importer and file parsers), and listing
it for the browser (browser.py)."""
