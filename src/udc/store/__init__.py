"""The knowledge store: records (newest wins), tombstones, edges, runs, per-pipeline state, the backfill ledger and
named locks, behind one interface (`Store`); `open_store(url)` opens the one a `store:` URL names."""

from udc.store.base import Ledger, Lock, PageSink, Store
from udc.store.reader import StoreReader
from udc.store.sqlite import SqliteStore, sqlite_files
from udc.store.types import PageWrite, UpsertCounts, encode_record, lease_stamp
from udc.store.url import (
    discard_new_store,
    exposure_warnings,
    open_reader,
    open_store,
    parse_store_url,
    store_exists,
)

__all__ = ["Ledger", "Lock", "PageSink", "PageWrite", "SqliteStore", "Store", "StoreReader", "UpsertCounts",
           "encode_record", "discard_new_store", "exposure_warnings", "lease_stamp", "open_reader", "open_store",
           "parse_store_url", "sqlite_files", "store_exists"]
