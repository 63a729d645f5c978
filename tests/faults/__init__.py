"""The fault suite (issue 12, part 2): `cervixwatch serve --workers 2` on PostgreSQL importing
women in a bounded loop while its workers are killed and its database connections are
terminated; SQLite killed mid-write. `make faults` runs it in full and prints the figures
(`docs/reliability.md`); `make test` runs a reduced number of trials."""
