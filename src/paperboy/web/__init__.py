"""The web app: pages, JSON API, RSS and the subscription pages, served by FastAPI."""
