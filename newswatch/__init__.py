"""newswatch: poll news feeds, enrich articles with Beam, index them in Elasticsearch, alert on watched entities."""

import logging

__version__ = "0.1.0"


class _QuietOptionalImports(logging.Filter):
    """Beam warns at import that Google Cloud clients are absent; newswatch does not use them."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "apitools not found" not in record.getMessage()


logging.getLogger().addFilter(_QuietOptionalImports())
