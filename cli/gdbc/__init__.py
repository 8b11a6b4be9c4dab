"""gdbc: back up GeminiDB Cassandra instances through the GeminiDB Backup Console's REST API.

It talks to the console over HTTP only and imports nothing from the console itself.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("gdbc")
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"
