"""The publishing lifecycle: plan, take in, publish, release, steer. No SQL lives here."""
