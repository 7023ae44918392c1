"""Merchants with their spending category (contract ids) and card scheme MCC codes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Merchant:
    name: str
    category: str
    mcc: str
    low: int  # typical amount range in minor units
    high: int


MERCHANTS: tuple[Merchant, ...] = (
    Merchant("Starbucks", "coffee", "5814", 280, 690),
    Merchant("Costa Coffee", "coffee", "5814", 250, 590),
    Merchant("Pret A Manger", "coffee", "5814", 300, 850),
    Merchant("Lidl", "groceries", "5411", 1200, 6500),
    Merchant("Tesco", "groceries", "5411", 900, 8900),
    Merchant("Carrefour", "groceries", "5411", 1500, 9500),
    Merchant("Wagamama", "restaurants", "5812", 1800, 4500),
    Merchant("Pizza Express", "restaurants", "5812", 2200, 5200),
    Merchant("Nando's", "restaurants", "5812", 1500, 3800),
    Merchant("Uber", "transport", "4121", 700, 2900),
    Merchant("Transport for London", "transport", "4111", 175, 840),
    Merchant("Shell", "transport", "5541", 3500, 8000),
    Merchant("Netflix", "subscriptions", "4899", 1599, 1599),
    Merchant("Spotify", "subscriptions", "4899", 1099, 1099),
    Merchant("Amazon", "shopping", "5942", 899, 12900),
    Merchant("Zara", "shopping", "5651", 1999, 8999),
    Merchant("Electric Ireland", "utilities", "4900", 6500, 14000),
    Merchant("Vodafone", "utilities", "4814", 2500, 2500),
    Merchant("Cineworld", "entertainment", "7832", 1100, 3200),
    Merchant("Ryanair", "travel", "4511", 3900, 24000),
    Merchant("Boots", "health", "5912", 350, 4200),
    Merchant("ATM Withdrawal", "cash", "6011", 2000, 20000),
    Merchant("Greenfield Lettings", "rent", "6513", 145000, 145000),
)

BY_NAME = {m.name: m for m in MERCHANTS}
