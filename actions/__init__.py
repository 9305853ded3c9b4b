"""Rasa custom actions for 一件事导办助手: thin glue between Rasa and ``knowledge.service``.

Run: ``SANIC_HOST=127.0.0.1 .venv/app/bin/python -m rasa_sdk --actions actions -p 5055``.
"""
