"""Studio forms: they parse and bound what the browser sends; the services validate again and decide."""
