"""Live handoff of a conversation from the bot to a support agent, and back."""
