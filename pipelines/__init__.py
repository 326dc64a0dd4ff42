"""The Beam pipeline and its stages: clean, dedup, tag, match, index. Each stage is plain Python."""
