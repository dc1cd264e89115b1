"""Routes under /api/v1/ for discovery: spotlight, directory, statistics, statistics.list."""

from django.urls import re_path

from rooms import v1_discovery as v

urlpatterns = [
    re_path(r"^spotlight/?$", v.SpotlightView.as_view(), name="spotlight"),
    re_path(r"^directory/?$", v.DirectoryView.as_view(), name="directory"),
    re_path(r"^statistics/?$", v.StatisticsView.as_view(), name="statistics"),
    re_path(r"^statistics\.list/?$", v.StatisticsListView.as_view(), name="statistics.list"),
]
