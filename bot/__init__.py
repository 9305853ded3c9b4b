"""The gateway between user channels and Rasa (FastAPI). Build it with ``bot.app.create_app``."""
