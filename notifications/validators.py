"""The rules for what a person types as a channel's address, one place for forms and services.

A webhook URL is a full URL (Slack's and Teams' carry their credential in the path), so it
cannot go through ``webapp.outbound.check_base_url`` as it is; its scheme and host do, with the
same answer: ``https://`` to public addresses only, unless ``OUTBOUND_ALLOWED_HOSTS`` lists the
host. A fragment or a user name in it is refused. The URL is checked again, and pinned to the
checked address, when it is called (``OutboundSession``).
"""

from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from webapp.outbound import check_base_url

URL_LIMIT = 2000


def check_webhook_url(value: str) -> str:
    """``value`` as the URL the console will POST to, or a ValidationError that says why not."""
    text = value.strip()
    if len(text) > URL_LIMIT:
        raise ValidationError(_("Enter at most %(limit)s characters.") % {"limit": URL_LIMIT}, code="length")
    if any(char.isspace() or not char.isprintable() or char == "\\" for char in text):
        raise ValidationError(_("Enter the address without spaces or backslashes."), code="characters")
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise ValidationError(_("Enter the whole https:// address the service gave you."), code="scheme")
    if "#" in text:
        raise ValidationError(_("Enter the address without a fragment (#)."), code="fragment")
    if "@" in parts.netloc:
        raise ValidationError(
            _("Enter the address without a user name or password (nothing before an @)."), code="user"
        )
    origin = check_base_url(f"{parts.scheme}://{parts.netloc}")  # https, public address, or allowed
    return origin + (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def check_channel_target(kind: str, value: str) -> str:
    """An email channel's address, or any other channel's webhook URL, normalised."""
    if kind == "email":
        address = value.strip()
        validate_email(address)
        return address
    return check_webhook_url(value)


def target_display(kind: str, target: str) -> str:
    """What a page may show of a target: the email address, or only the URL's host."""
    return target if kind == "email" else (urlsplit(target).netloc or "")
