"""Entry point kept for the conventional ``actions.actions`` module name.

The actions live in small modules; importing them here registers them with rasa_sdk.
"""

from actions.cases import ActionFileCase, ValidateBanchengForm  # noqa: F401  (registers the 办不成事 form)
from actions.checklist import ActionChecklist  # noqa: F401  (registers the personal checklist)
from actions.complaint import ActionRecordComplaint  # noqa: F401  (registers the complaint action)
from actions.detail import ActionAnswerDetail, ActionGoBack
from actions.find_thing import ActionFindThing
from actions.handoff import ActionHandoff
from actions.materials import ActionListMaterials
from actions.phone import ActionGotPhone  # noqa: F401  (registers action_got_phone)
from actions.rating import ActionFileBadRatingCase, ActionSaveRating, ActionStaffHandedBack  # noqa: F401  (registers the rating actions)

__all__ = ["ActionAnswerDetail", "ActionFindThing", "ActionGoBack", "ActionHandoff", "ActionListMaterials"]
