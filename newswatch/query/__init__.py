"""The query layer: the one set of read (and rule-editing) operations that every interface calls,
so the CLI, the web pages and the HTTP API never write a query twice."""
