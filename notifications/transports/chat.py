"""Chat services' incoming webhooks: a short message for people (title, reason, link).

Slack and Mattermost take ``{"text": ...}`` with ``<url|label>`` links (Mattermost accepts
Slack's format); Microsoft Teams takes a MessageCard, the format of its "Incoming Webhook"
connector. (A Teams Workflows webhook expects an Adaptive Card in a message instead: not sent yet.)"""

from django.utils.translation import gettext as _

from notifications.events import EventKind
from notifications.messages import Message
from notifications.transports import webhook

# Red for problems, green for good news and tests (the card's edge colour).
CALM = {
    EventKind.BACKUP_COMPLETED,
    EventKind.INSTANCE_PROTECTED,
    EventKind.RESTORE_COMPLETED,
    EventKind.REHEARSAL_PASSED,
    "channel_test",
}


def slack_payload(message: Message) -> dict:
    link = f" <{message.url}|{_slack_escape(_('Open in the console'))}>" if message.url.startswith("http") else ""
    return {"text": f"*{_slack_escape(message.title)}*\n{_slack_escape(message.text)}{link}"}


def teams_payload(message: Message) -> dict:
    card: dict[str, object] = {
        "@type": "MessageCard",
        "@context": "https://schema.org/extensions",
        "summary": message.title,
        "themeColor": "2E7D32" if message.body["event"] in CALM else "C0392B",
        "title": message.title,
        "text": message.text,
    }
    if message.url.startswith("http"):
        card["potentialAction"] = [
            {"@type": "OpenUri", "name": _("Open in the console"), "targets": [{"os": "default", "uri": message.url}]}
        ]
    return card


def _slack_escape(text: str) -> str:
    # Slack's three control characters (api.slack.com/reference/surfaces/formatting#escaping).
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


PAYLOADS = {"slack": slack_payload, "mattermost": slack_payload, "teams": teams_payload}


def send(kind: str, url: str, message: Message) -> None:
    webhook.post_json(url, PAYLOADS[kind](message), delivery_id=message.body["delivery_id"])
