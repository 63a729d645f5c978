"""Who is asking: passwords, secrets, and the signed-in principal. No SQL and no web here;
`store.accounts` keeps accounts, `app.accounts` signs in, `web.access` enforces the rules."""
