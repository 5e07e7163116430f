"""The report: what the board reads, computed from observations and the catalogue."""
