"""The shared vocabulary of the rights service: pure, importable from workflows."""
