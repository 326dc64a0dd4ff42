"""Bundled run-time data: demo feeds and watchlist, IPTC topic rules, actor aliases. A package only so
that the files install as package data beside the code."""
