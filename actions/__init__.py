"""The Rasa SDK action server: turns slots into calls to the core and the core's answers into words.

It holds no state and no business rule. Every call to the core carries a short-lived service token
that the core scopes to the conversation's customer, so no slot or sender id can reach another
customer's accounts.
"""

import bankbot_imports  # noqa: F401 - httpcore's per-request `import sniffio` fails at once, not by a search
import bankbot_logging  # noqa: F401 - installs the PII log filter in the action server
