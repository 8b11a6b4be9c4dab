"""The restore pages, one module per page; `restores/urls.py` maps them."""
