"""Evidence: capture a page as a browser saw it, seal it (digests, signature, RFC 3161
timestamps, custody log) into a bundle anyone can verify offline, and report it.

Owns what a court or a platform is shown; must not decide matches or send notices.
"""
