"""The Temporal client side both doors share.

`connection` reaches Temporal (payload keys, TLS, API key) and holds the secrets the doors share
with the worker; `rights_requests` acts on one request. Imported by `api/` and `starter.py`.
"""
