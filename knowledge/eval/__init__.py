"""Labelled evaluation sets for the one-thing search and their runner (``python -m knowledge.eval``)."""
