"""Prefect flows: poll feeds, land raw batches, run the pipeline, on demand or on a schedule."""
