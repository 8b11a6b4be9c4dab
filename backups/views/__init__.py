"""The console's pages, one module per page; `backups/urls.py` maps them."""
