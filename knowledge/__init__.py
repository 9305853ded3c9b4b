"""The catalogue of Shaoyang County's "one things" and its retrieval.

This package knows nothing about Rasa: the action server and the gateway both
use it through `knowledge.service`.
"""
