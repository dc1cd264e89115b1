"""Routes under /api/v1/ for chat.*, named as Rocket.Chat names the endpoints."""

from django.urls import re_path

from rooms import v1_chat

urlpatterns = [
    re_path(r"^chat\.postMessage/?$", v1_chat.PostMessageView.as_view(), name="chat.postMessage"),
    re_path(r"^chat\.sendMessage/?$", v1_chat.SendMessageView.as_view(), name="chat.sendMessage"),
    re_path(r"^chat\.getMessage/?$", v1_chat.GetMessageView.as_view(), name="chat.getMessage"),
    re_path(r"^chat\.update/?$", v1_chat.UpdateView.as_view(), name="chat.update"),
    re_path(r"^chat\.delete/?$", v1_chat.DeleteView.as_view(), name="chat.delete"),
]
