"""The words of the hot-issue warning: rule names, explanations and short titles.

Pure like ``hotissues``: each text is an English template (a msgid) filled in with named
values; the web side translates the template with gettext, then fills it in.
"""

from __future__ import annotations

__all__ = ["EXPLAIN", "RULE_LABELS", "TEMPLATES", "TITLE"]


def gettext_noop(message: str) -> str:
    """Mark ``message`` for translation without translating it (this module imports no Django).

    ``makemessages`` extracts the calls of any function of this name, so the templates below
    reach the catalogue; ``warnings.explain`` translates them when it shows them.
    """
    return message


# rule -> its name, as a badge on the warnings page
RULE_LABELS = {
    "cluster": gettext_noop("Many reports of one kind"),
    "building": gettext_noop("Many reports in one building"),
    "rise": gettext_noop("Rising"),
    "reopen": gettext_noop("Request reopened again and again"),
    "reopens": gettext_noop("Many reopenings"),
    "dispute": gettext_noop("Disputes"),
}

# rule -> why it fired, with every number and the threshold
EXPLAIN = {
    "cluster": gettext_noop(
        "%(count)s requests and opinions about %(category)s in %(compound)s in the last %(days)s days "
        "(requests: %(tickets)s, opinions: %(opinions)s; threshold %(threshold)s)"
    ),
    "building": gettext_noop(
        "%(count)s requests and opinions about %(category)s in %(compound)s %(building)s in the last "
        "%(days)s days (requests: %(tickets)s, opinions: %(opinions)s; threshold %(threshold)s)"
    ),
    "rise": gettext_noop(
        "%(count)s requests and opinions about %(category)s in %(compound)s in the last %(days)s days, "
        "against %(previous)s in the %(days)s days before (threshold: at least %(threshold)s, and at "
        "least %(factor)s times as many as before)"
    ),
    "reopen": gettext_noop(
        "Request #%(ticket)s was reopened %(count)s times after being closed (threshold %(threshold)s)"
    ),
    "reopens": gettext_noop(
        "%(count)s reopenings among %(requests)s requests of %(compound)s reported or changed in the "
        "last %(days)s days (threshold %(threshold)s)"
    ),
    "dispute": gettext_noop(
        "%(count)s disputes in %(compound)s in the last %(days)s days (requests in a dispute category: "
        "%(disputes)s, dissatisfied ratings: %(dissatisfied)s, opinions not adopted: %(rejected)s; "
        "threshold %(threshold)s)"
    ),
}

# rule -> a short title, for the warning's heading and the agenda item it becomes
TITLE = {
    "cluster": gettext_noop("%(compound)s: many reports about %(category)s"),
    "building": gettext_noop("%(compound)s %(building)s: many reports about %(category)s"),
    "rise": gettext_noop("%(compound)s: reports about %(category)s are rising"),
    "reopen": gettext_noop("Request #%(ticket)s keeps being reopened"),
    "reopens": gettext_noop("%(compound)s: requests keep being reopened"),
    "dispute": gettext_noop("%(compound)s: disputes and dissatisfaction"),
}

TEMPLATES = (*RULE_LABELS.values(), *EXPLAIN.values(), *TITLE.values())
