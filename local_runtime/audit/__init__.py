"""``share-worker audit``: checks each item's ``SharedCount`` against its feed entries, the ledger of
its shares, and repairs the counts that drift (see :mod:`local_runtime.audit.confirmation` for why a
repair never erases a share the running worker applies meanwhile)."""
