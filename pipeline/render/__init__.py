"""Essay -> formats. Pure functions; no I/O, no HTTP."""
