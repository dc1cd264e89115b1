"""Routes under /api/v1/ for dm.* and, the same views, their older names im.*."""

import re

from django.urls import URLPattern, re_path

from rooms import v1_dms as v

ENDPOINTS: list[tuple[str, type[v.V1View]]] = [
    ("create", v.CreateView),
    ("list", v.ListView),
    ("list.everyone", v.ListEveryoneView),
    ("history", v.DirectHistoryView),
    ("messages", v.DirectMessagesView),
    ("messages.others", v.MessagesOthersView),
    ("members", v.DirectMembersView),
    ("counters", v.DirectCountersView),
    ("open", v.DirectOpenView),
    ("close", v.DirectCloseView),
    ("setTopic", v.DirectSetTopicView),
    ("delete", v.DirectDeleteView),
]

urlpatterns: list[URLPattern] = [
    re_path("^" + re.escape(f"{prefix}.{name}") + "/?$", view.as_view(), name=f"{prefix}.{name}")
    for prefix in ("dm", "im")
    for name, view in ENDPOINTS
]
