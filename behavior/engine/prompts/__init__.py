"""Prompt builders: named sections with token estimates, one module per stage."""
