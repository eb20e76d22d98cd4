"""The knowledge store: records (newest wins), tombstones, edges, runs and per-pipeline state."""

from udc.store.sqlite import PageWrite, SqliteStore, UpsertCounts, encode_record, open_store, store_failure

__all__ = ["PageWrite", "SqliteStore", "UpsertCounts", "encode_record", "open_store", "store_failure"]
