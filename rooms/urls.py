"""Room routes under /api/; each takes an optional trailing slash."""

from django.urls import re_path

from rooms import views

urlpatterns = [
    re_path(r"^publicRooms/?$", views.PublicRoomsView.as_view(), name="public-rooms"),
    re_path(r"^joinedRooms/?$", views.JoinedRoomsView.as_view(), name="joined-rooms"),
    re_path(r"^rooms/(?P<room_id>[^/]+)/join/?$", views.JoinView.as_view(), name="room-join"),
    re_path(r"^rooms/(?P<room_id>[^/]+)/leave/?$", views.LeaveView.as_view(), name="room-leave"),
    re_path(
        r"^rooms/(?P<room_id>[^/]+)/messages/?$",
        views.MessagesView.as_view(),
        name="room-messages",
    ),
    re_path(r"^rooms/(?P<room_id>[^/]+)/send/?$", views.SendView.as_view(), name="room-send"),
    re_path(r"^bulk/createRoom/?$", views.BulkCreateRoomView.as_view(), name="bulk-create-room"),
    re_path(
        r"^room/(?P<room_id>[^/]+)/archive/?$", views.ArchiveView.as_view(), name="room-archive"
    ),
    re_path(
        r"^room/(?P<room_id>[^/]+)/unarchive/?$",
        views.UnarchiveView.as_view(),
        name="room-unarchive",
    ),
]
