"""The Skyway Airlines demo agent: its behavior document, Python tools and demo data set."""
