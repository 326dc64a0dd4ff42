"""Interfaces on top of the query layer and the flows: the command line (and the web app and API)."""
