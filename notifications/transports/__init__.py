"""The ways a message leaves the console, one module each, behind one interface:
`send(message)` returns when the other side has accepted it, or raises `DeliveryError`."""


class DeliveryError(Exception):
    """The message did not go out. `reason` is in our words and holds no secret; `permanent`
    says that trying again would not help (the server refused it for good)."""

    def __init__(self, reason: str, *, permanent: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
