"""Analysis: field domains, decision diagrams, the exact coverage checker (gaps, overlaps, unreachable, empty) and lint."""
