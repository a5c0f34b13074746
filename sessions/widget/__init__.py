"""The website chat widget's server side: public keys and origins, customer tokens, identity verification,
the HTTP endpoints (with the long-poll fallback) and the widget's websocket consumer."""
