"""Email through Django's mail API (EMAIL_URL in settings: SMTP in production, files under
var/mail in development, memory in tests)."""

import smtplib

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils.translation import gettext as _

from notifications.models import OutgoingEmail
from notifications.transports import DeliveryError


def send(email: OutgoingEmail) -> None:
    """Hand one email of the outbox to the mail server. Raises DeliveryError."""
    send_message(to=email.recipient, subject=email.subject, body=email.body, message_id=email.message_id)


def send_message(*, to: str, subject: str, body: str, message_id: str) -> None:
    """Hand one email to the mail server. Raises DeliveryError."""
    message = EmailMessage(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        # Our own id, so a copy sent again after a crash is the same message (RFC 5322 §3.6.4);
        # Auto-Submitted keeps out-of-office replies away (RFC 3834).
        headers={"Message-ID": message_id, "Auto-Submitted": "auto-generated"},
    )
    try:
        accepted = message.send(fail_silently=False)
    except smtplib.SMTPRecipientsRefused:
        raise DeliveryError(_("The mail server refused the recipient's address."), permanent=True) from None
    except smtplib.SMTPResponseException as error:
        # 5xx is the server's final word (RFC 5321 §4.2.1); 4xx asks us to try again later.
        permanent = 500 <= error.smtp_code < 600
        raise DeliveryError(
            _("The mail server answered %(code)s.") % {"code": error.smtp_code}, permanent=permanent
        ) from None
    except smtplib.SMTPException as error:
        raise DeliveryError(
            _("The mail server broke off the conversation (%(error)s).") % {"error": type(error).__name__}
        ) from None
    except OSError as error:
        raise DeliveryError(
            _("The mail server could not be reached (%(error)s).") % {"error": type(error).__name__}
        ) from None
    if not accepted:
        raise DeliveryError(_("The mail server accepted nothing."))
