"""The assistant's intent names (contract, docs/DESIGN): the only values a metric's `intent` label takes.

Rasa also accepts any `/name` typed by a customer as an intent (its payload syntax, which buttons use),
so an intent from an event is not a bounded value by itself: `label()` keeps these names and turns any
other into `other`. The list is copied here because the core's image has no bot/ folder;
tests/api/test_telemetry.py checks it against bot/domain/*.yml.
"""

from __future__ import annotations

ASSISTANT = frozenset({
    "check_balance", "spending_query", "search_transactions", "transfer_money", "freeze_card", "unfreeze_card",
    "request_human", "greet", "goodbye", "affirm", "deny", "thank_you", "bot_challenge", "out_of_scope",
    "nlu_fallback",
})
BANKING77 = frozenset({
    "card_arrival", "card_linking", "exchange_rate", "card_payment_wrong_exchange_rate",
    "extra_charge_on_statement", "pending_cash_withdrawal", "fiat_currency_support", "card_delivery_estimate",
    "automatic_top_up", "card_not_working", "exchange_via_app", "lost_or_stolen_card", "age_limit",
    "pin_blocked", "contactless_not_working", "top_up_by_bank_transfer_charge", "pending_top_up",
    "cancel_transfer", "top_up_limits", "wrong_amount_of_cash_received", "card_payment_fee_charged",
    "transfer_not_received_by_recipient", "supported_cards_and_currencies", "getting_virtual_card",
    "card_acceptance", "top_up_reverted", "balance_not_updated_after_cheque_or_cash_deposit",
    "card_payment_not_recognised", "edit_personal_details", "why_verify_identity", "unable_to_verify_identity",
    "get_physical_card", "visa_or_mastercard", "topping_up_by_card", "disposable_card_limits",
    "compromised_card", "atm_support", "direct_debit_payment_not_recognised", "passcode_forgotten",
    "declined_cash_withdrawal", "pending_card_payment", "lost_or_stolen_phone", "request_refund",
    "declined_transfer", "Refund_not_showing_up", "declined_card_payment", "pending_transfer",
    "terminate_account", "card_swallowed", "transaction_charged_twice", "verify_source_of_funds",
    "transfer_timing", "reverted_card_payment?", "change_pin", "beneficiary_not_allowed",
    "transfer_fee_charged", "receiving_money", "failed_transfer", "transfer_into_account", "verify_top_up",
    "getting_spare_card", "top_up_by_cash_or_cheque", "order_physical_card", "virtual_card_not_working",
    "wrong_exchange_rate_for_cash_withdrawal", "get_disposable_virtual_card", "top_up_failed",
    "balance_not_updated_after_bank_transfer", "cash_withdrawal_not_recognised", "exchange_charge",
    "top_up_by_card_charge", "activate_my_card", "cash_withdrawal_charge", "card_about_to_expire",
    "apple_pay_or_google_pay", "verify_my_identity", "country_support",
})
KNOWN = ASSISTANT | BANKING77
FALLBACK = "nlu_fallback"  # FallbackClassifier's intent (bot/config.yml): the NLU was not sure enough


def label(name: object) -> str:
    """`name` if it is one of the assistant's intents, else `other` (bounded label cardinality)."""
    return name if isinstance(name, str) and name in KNOWN else "other"
