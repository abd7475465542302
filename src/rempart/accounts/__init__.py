"""Who may use Rempart's service, and for what: accounts (argon2id passwords, TOTP), API tokens,
server-side web sessions, sign-in throttling and the access log.

`policy` holds the pure rules (roles, what each may see, lock-out backoff); `credentials` the
secrets' arithmetic; `users`, `tokens`, `sessions` and `access_log` are use cases on the store.
Nothing here renders a page or parses a request: rempart.web and rempart.cli do.
"""
