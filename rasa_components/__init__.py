"""Custom Rasa NLU components (loaded by the Rasa server from config.yml; Python 3.10 venv)."""
