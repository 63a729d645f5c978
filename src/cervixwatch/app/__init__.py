"""Use cases: what the web layer and the command line ask of CervixWatch. They call the pure
domain (`clinical/`) and the store; routes call them and hold no SQL or clinical logic. The web
reaches the store only through here (`tests/unit/test_architecture.py`); the store's types it
names, and the lookups its access checks make in their own session, are named by `app.rows`
and `app.account_lookups`."""
