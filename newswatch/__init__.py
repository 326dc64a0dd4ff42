"""newswatch: poll news feeds, enrich articles with Beam, index them in Elasticsearch, alert on watched entities."""

__version__ = "0.1.0"
