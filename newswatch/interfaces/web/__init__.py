"""The web app and HTTP API: server-rendered pages and JSON over the same query layer as the CLI."""
