"""Small hand-made captures for the ingest tests; `make_data.py` writes them all."""
