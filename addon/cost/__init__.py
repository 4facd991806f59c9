"""What requests cost: the shipped price table, billed and saved dollars per flow, why the
provider's prompt cache missed, and the budgets and rate limits that refuse a request."""
