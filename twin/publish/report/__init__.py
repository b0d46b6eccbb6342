"""The capacity report: a self-contained HTML page per publication."""
