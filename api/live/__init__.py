"""Live events of a conversation and of the handoff queue, pushed to the chat page and the console."""
