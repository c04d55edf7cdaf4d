"""The web service: server-rendered pages, the JSON API, Atom feeds and the subscription pages.

Build it with `paperboy.web.app.create_app(settings)`; serve it with `paperboy serve`.
"""
