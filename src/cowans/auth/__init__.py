"""Who may do what: users, passwords, access and API tokens, roles, login rate limits."""
