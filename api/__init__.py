"""The HTTP door: intake for intake systems, and the pages requesters answer notices through."""
