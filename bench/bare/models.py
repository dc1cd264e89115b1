from django.db import models


class BareMessage(models.Model):
    """bare_message is made by bench/run.py as a copy of rooms_message (LIKE ... INCLUDING ALL):
    the same columns, indexes and rows."""

    id = models.CharField(primary_key=True, max_length=32)
    room_id = models.CharField(max_length=34)
    author_id = models.CharField(max_length=17, null=True)
    msg = models.TextField()
    ts = models.DateTimeField()
    updated_at = models.DateTimeField()
    alias = models.CharField(max_length=250, default="")
    emoji = models.CharField(max_length=100, default="")
    avatar = models.CharField(max_length=1000, default="")
    attachments = models.JSONField(default=list)

    class Meta:
        managed = False
        db_table = "bare_message"


class BareRoom(models.Model):
    """The product's rooms_room, read as it is (the bare subscriptions select reads the same
    rows as subscriptions.get; it writes nothing)."""

    id = models.CharField(primary_key=True, max_length=34)
    t = models.CharField(max_length=1)
    name = models.CharField(max_length=64)
    msgs = models.IntegerField()
    lm = models.DateTimeField(null=True)
    updated_at = models.DateTimeField()
    archived = models.BooleanField()

    class Meta:
        managed = False
        db_table = "rooms_room"


class BareSubscription(models.Model):
    """The product's rooms_subscription, read as it is."""

    id = models.BigIntegerField(primary_key=True)
    room = models.ForeignKey(BareRoom, on_delete=models.DO_NOTHING, db_constraint=False)
    user_id = models.CharField(max_length=17)
    ts = models.DateTimeField()
    read_msgs = models.IntegerField()
    ls = models.DateTimeField()
    user_mentions = models.IntegerField()
    group_mentions = models.IntegerField()
    closed_at = models.DateTimeField(null=True)
    f = models.BooleanField()
    updated_at = models.DateTimeField()

    class Meta:
        managed = False
        db_table = "rooms_subscription"
