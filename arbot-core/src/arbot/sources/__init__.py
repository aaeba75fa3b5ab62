"""Market data sources: the seeded market simulator and the replay of recordings."""
