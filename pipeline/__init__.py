"""crosspost: one essay in, every platform out, exactly once."""
