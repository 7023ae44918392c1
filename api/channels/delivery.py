"""Deliver lines the customer did not ask for in this request (an agent's answer, a notification, the bot's
"anything else?" after a handoff) to the channel the conversation is on.

Web conversations need nothing here: the chat page receives every stored line through the live events
(api/live). Channel conversations (Telegram, Slack, SMS) get the lines sent through the channel's API.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from api.chat.rasa_client import BotMessage
from api.config import Settings
from api.conversations.models import Conversation


def deliver(session: Session, settings: Settings, *, conversation: Conversation, messages: list[BotMessage]) -> None:
    """Send these lines to the customer on the conversation's channel (nothing to do for the web chat)."""
    if conversation.channel == "web" or not messages:
        return
    # The channels work replaces this with the channel's outbound API.
    return
