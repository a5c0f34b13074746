"""The Decorum behavior engine: one customer turn, in pure Python, behind ports.

Nothing under this package imports Django, openai or the project's apps (tests/engine enforces it).
"""
