"""The databases both sides of the service write: engines, and the records database's tables.

The worker's activities and the HTTP doors each own some of these tables; they live here, not
in either, so that the doors never import the activities (and with them SendGrid, the provider
clients and the rest) to reach a table.
"""
