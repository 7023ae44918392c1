"""Offline understanding of the entities customers say: periods, amounts, categories, merchants, payees.

Pure standard-library Python (3.10 and 3.11), no Duckling and no models. Every function is pure: the
caller passes the current time (`now`, timezone-aware) and the customer's IANA time zone explicitly.

- periods.resolve_period("last month", now, "Europe/Dublin") -> Period(start, end, label)
- amounts.parse_amount("fifty euros") -> Money(Decimal("50"), "EUR"); amounts.format_for_api(...)
- categories.find_category / find_merchant / find_recipient / find_account / find_card_last4
"""
