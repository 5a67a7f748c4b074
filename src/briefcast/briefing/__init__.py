"""Briefing model, sector catalogue and parser (no I/O beyond reading a source)."""
