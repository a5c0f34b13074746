"""The Decorum behavior engine: one customer turn, in pure Python, behind ports.

Nothing under this package imports Django, openai or the project's apps (tests/engine enforces it).
Entry point: `turn.run_turn`; data: `types`; ports: `ports`; the trace format: `trace`. Stages: context,
history, index + retrieval, matching (+ single_pass), resolution, journeys, tools (prepare), composition,
analysis; prompts live in `prompts/`, the LLM schemas in `schemas`.
"""
