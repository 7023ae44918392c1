"""News the bank tells the customer first: transfers, cards, fraud cases, pushed into their conversation."""
