"""GeminiDB simulator: a stand-in for Open Telekom Cloud's IAM and GeminiDB (Cassandra) HTTP API.

Run it with ``python -m simulator --port 8600``. It speaks the same paths, fields, status codes
and error bodies as the API reference in ``/work/shared/reference/geminidb-api/`` and adds a small
admin API under ``/_sim/`` for fault injection in tests and demos.

Time is the wall clock plus an offset: ``POST /_sim/clock {"advance_seconds": N}`` moves it
forward (``GET /_sim/clock`` reads it, ``POST /_sim/reset`` puts it back), and whatever falls due
meanwhile happens at the next request: jobs end, and each instance's automated backup policy
starts, finishes and expires its backups (``policies.py``). Instances are created (restored from
a backup or to a point in time) and deleted through jobs as the API does (``instances.py``).
``--no-automated-backups`` (or the ``automated_backups`` setting) stops the policies from
starting any.

The package uses only the standard library and imports nothing from the dashboard.
"""
