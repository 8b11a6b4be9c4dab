from django.test import Client

# What htmx sends with every request it makes.
HTMX = {"HTTP_HX_REQUEST": "true"}


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def is_fragment(response) -> bool:
    """A partial for htmx to swap in, not a whole page."""
    html = response.content.decode()
    return "<html" not in html and "<body" not in html


def text(response) -> str:
    return response.content.decode()
