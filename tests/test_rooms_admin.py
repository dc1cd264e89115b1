"""Rooms and messages in the Django admin."""

import pytest

from rooms.models import Message, Room, Subscription
from tests.factories import MessageFactory, RoomFactory, SubscriptionFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    UserFactory(username="root", is_superuser=True, is_staff=True)
    client.login(username="root", password="correct horse battery staple")
    return client


def test_rooms_are_listed_with_member_counts_and_searchable(staff):
    room = RoomFactory(name="lobby")
    SubscriptionFactory.create_batch(3, room=room)
    RoomFactory(name="elsewhere")

    page = staff.get("/admin/rooms/room/?q=lob").content.decode()

    assert "lobby" in page and "elsewhere" not in page
    assert '<td class="field-member_count">3</td>' in page


def test_rooms_are_filtered_by_type(staff):
    RoomFactory(name="open-one")
    RoomFactory(name="closed-one", t="p")

    page = staff.get("/admin/rooms/room/?t__exact=p").content.decode()

    assert "closed-one" in page and "open-one" not in page


def test_a_room_page_shows_its_members(staff):
    room = RoomFactory(name="lobby")
    SubscriptionFactory(room=room, user=UserFactory(username="visible-member"))

    page = staff.get(f"/admin/rooms/room/{room.pk}/change/")

    assert page.status_code == 200
    assert "visible-member" in page.content.decode()


def test_the_admin_adds_a_room_with_a_member(staff):
    member = UserFactory(username="member")

    response = staff.post(
        "/admin/rooms/room/add/",
        {
            "name": "made-in-admin",
            "t": "c",
            "topic": "",
            "subscriptions-TOTAL_FORMS": "1",
            "subscriptions-INITIAL_FORMS": "0",
            "subscriptions-0-user": member.pk,
        },
    )

    assert response.status_code == 302
    room = Room.objects.get(name="made-in-admin")
    assert list(
        Subscription.objects.filter(room=room).values_list("user__username", flat=True)
    ) == ["member"]


def test_the_admin_refuses_a_room_name_taken_in_another_case(staff):
    RoomFactory(name="Lobby")

    response = staff.post(
        "/admin/rooms/room/add/",
        {
            "name": "lobby",
            "t": "c",
            "subscriptions-TOTAL_FORMS": "0",
            "subscriptions-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 200
    assert "A room with this name already exists." in response.content.decode()


def test_messages_are_newest_first_searchable_and_filtered_by_room(staff):
    lobby, other = RoomFactory(name="lobby"), RoomFactory(name="other")
    MessageFactory(room=lobby, msg="older words")
    MessageFactory(room=lobby, msg="newer words")
    MessageFactory(room=other, msg="elsewhere words")

    page = staff.get(f"/admin/rooms/message/?room={lobby.pk}").content.decode()
    assert page.index("newer words") < page.index("older words")
    assert "elsewhere words" not in page

    found = staff.get("/admin/rooms/message/?q=elsewhere").content.decode()
    assert "elsewhere words" in found and "older words" not in found


def test_messages_cannot_be_added_or_deleted_in_the_admin(staff):
    message = MessageFactory()

    assert staff.get("/admin/rooms/message/add/").status_code == 403
    assert (
        staff.post(f"/admin/rooms/message/{message.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    assert Message.objects.count() == 1
