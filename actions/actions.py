"""Entry point kept for the conventional ``actions.actions`` module name.

The actions live in small modules; importing them here registers them with rasa_sdk.
"""

from actions.detail import ActionAnswerDetail, ActionGoBack
from actions.find_thing import ActionFindThing
from actions.materials import ActionListMaterials

__all__ = ["ActionAnswerDetail", "ActionFindThing", "ActionGoBack", "ActionListMaterials"]
