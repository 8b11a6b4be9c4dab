"""GeminiDB simulator: a stand-in for Open Telekom Cloud's IAM and GeminiDB (Cassandra) HTTP API.

Run it with ``python -m simulator --port 8600``. It speaks the same paths, fields, status codes
and error bodies as the API reference in ``/work/shared/reference/geminidb-api/`` and adds a small
admin API under ``/_sim/`` for fault injection in tests and demos.

The package uses only the standard library and imports nothing from the dashboard.
"""
