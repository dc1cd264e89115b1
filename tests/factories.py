from datetime import UTC, datetime, timedelta

import factory

from accounts.models import User
from rooms.models import Message, Room, Subscription


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    name = factory.LazyAttribute(lambda user: user.username.capitalize())
    password = factory.django.Password("correct horse battery staple")

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        """Global roles by name: `user`, as every real user has, unless told otherwise."""
        if create:
            self.roles.set(["user"] if extracted is None else extracted)


class RoomFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Room

    name = factory.Sequence(lambda n: f"room{n}")
    t = Room.Type.CHANNEL


class SubscriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Subscription
        skip_postgeneration_save = True

    room = factory.SubFactory(RoomFactory)
    user = factory.SubFactory(UserFactory)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        """Room roles by name, such as ["owner"]."""
        if create and extracted:
            self.roles.set(extracted)


class MessageFactory(factory.django.DjangoModelFactory):
    """Messages a second apart, as stored by send_message (whole milliseconds, rising)."""

    class Meta:
        model = Message

    room = factory.SubFactory(RoomFactory)
    author = factory.SubFactory(UserFactory)
    msg = factory.Sequence(lambda n: f"message {n}")
    ts = factory.Sequence(
        lambda n: datetime(2015, 7, 27, 15, 25, 43, 549000, tzinfo=UTC) + timedelta(seconds=n)
    )
