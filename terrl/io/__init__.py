"""Account data in and out: CSV / JSON Lines / Parquet readers and the result writers."""
