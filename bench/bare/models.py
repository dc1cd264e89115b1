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
