"""The providers that hold requesters' data: one connector per kind, and the table of kinds.

`kinds.py` says what each kind means; `connector.py` is the contract every connector keeps.
The activities that drive them are in `activities.fulfilment`.
"""
