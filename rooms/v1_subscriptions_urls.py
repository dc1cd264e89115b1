"""Routes under /api/v1/ for subscriptions.* and the rooms.* of rooms.v1_subscriptions."""

from django.urls import re_path

from rooms import v1_subscriptions as v

urlpatterns = [
    re_path(r"^subscriptions\.get/?$", v.SubscriptionsGetView.as_view(), name="subscriptions.get"),
    re_path(
        r"^subscriptions\.getOne/?$",
        v.SubscriptionsGetOneView.as_view(),
        name="subscriptions.getOne",
    ),
    re_path(
        r"^subscriptions\.read/?$", v.SubscriptionsReadView.as_view(), name="subscriptions.read"
    ),
    re_path(
        r"^subscriptions\.unread/?$",
        v.SubscriptionsUnreadView.as_view(),
        name="subscriptions.unread",
    ),
    re_path(r"^rooms\.get/?$", v.RoomsGetView.as_view(), name="rooms.get"),
    re_path(r"^rooms\.favorite/?$", v.RoomsFavoriteView.as_view(), name="rooms.favorite"),
    re_path(r"^rooms\.leave/?$", v.RoomsLeaveView.as_view(), name="rooms.leave"),
]
