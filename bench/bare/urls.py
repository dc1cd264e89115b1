from django.urls import path

from bench.bare import views

urlpatterns = [
    path("static", views.StaticView.as_view()),
    path("insert/<str:room_id>", views.InsertView.as_view()),
    path("select/<str:room_id>", views.SelectView.as_view()),
    path("subscriptions/<str:user_id>", views.SubscriptionsView.as_view()),
]
