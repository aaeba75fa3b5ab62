"""Sinks: the batching base class and the embedded stores (SQLite journal, Parquet recorder)."""
