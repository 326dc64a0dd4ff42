"""Contracts as data: JSON Schemas of article, alert, watchlist and feed list, and the Elasticsearch
index templates. A package only so that the files install as package data beside the code."""
