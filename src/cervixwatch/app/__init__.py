"""Use cases: what the web layer and the command line ask of CervixWatch. They call the pure
domain (`clinical/`) and the store; routes call them and hold no SQL or clinical logic."""
