"""Landed files into the lake: landing, parsing, row rules, rejects, stats, completeness, audit."""
