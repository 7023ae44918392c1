"""Messaging channels (Telegram, Slack, Twilio SMS): verification, linking, forwarding, replies."""
