"""Outbound webhooks per agent: signed JSON deliveries of conversation events, retried with backoff."""
