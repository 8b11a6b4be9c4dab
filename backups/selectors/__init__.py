"""Queries for the pages of `backups`, already scoped to the user, a module per page or
sub-domain: `instances`, `backups` (one backup), `overview`, `history`, and `pipeline` (the
worker's work lists and the operators' view of them).

Every function asks `access.permissions` which projects the user may see, in the same query
that fetches the rows, and runs a fixed number of queries whatever the data size: list pages
fetch related rows for all listed objects at once, never one per row.
"""
