"""The volunteers' web interface, served by the node (aiohttp)."""
