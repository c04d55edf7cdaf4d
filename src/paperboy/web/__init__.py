"""The web service: server-rendered pages, the JSON API and Atom feeds over the store.

Build it with `paperboy.web.app.create_app(settings)`; serve it with `paperboy serve`.
"""
