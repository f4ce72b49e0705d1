"""Consultations (征求意见): a plan put to the households in scope, their responses, and the
opinions they raise, each answered through a published reply.

A consultation is not a statutory vote (DOMAIN §3): its denominator is the households in
scope, frozen when it opens, one row per residential unit with a response code printed on
a slip. Responses are append-only: a household's later response supersedes the earlier,
which is kept. Opinions are items of their own, assigned to a member unit or the owners'
committee and answered accepted / explained / rejected through a draft that is published.
"""

from gongzhi.consultations.models.consultation import (
    STAFF_CHANNELS,
    Channel,
    Consultation,
    Document,
    Household,
    Question,
    Response,
    ScopeItem,
    Willingness,
    document_path,
    paper_path,
)
from gongzhi.consultations.models.opinion import (
    BulkReply,
    Opinion,
    OpinionCategory,
    Outcome,
    Reply,
    ReplyTemplate,
)

__all__ = [
    "STAFF_CHANNELS",
    "BulkReply",
    "Channel",
    "Consultation",
    "Document",
    "Household",
    "Opinion",
    "OpinionCategory",
    "Outcome",
    "Question",
    "Reply",
    "ReplyTemplate",
    "Response",
    "ScopeItem",
    "Willingness",
    "document_path",
    "paper_path",
]
