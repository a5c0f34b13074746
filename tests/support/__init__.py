"""Test support shared by several test areas: the fake OpenAI-compatible server and its helpers."""
