from django.urls import path

from forums import calendar, views

app_name = "forums"

urlpatterns = [
    path("forums/", views.forum_list, name="list"),
    path("forums/calendrier.ics", calendar.forum_calendar, name="calendar"),
    path("forums/<int:pk>/", views.forum_detail, name="detail"),
    path("forums/<int:pk>/contribuer/", views.contribute_to_forum, name="contribute-forum"),
    path(
        "plans/<slug:plan>/engagements/<int:number>/contribuer/",
        views.contribute_to_commitment,
        name="contribute-commitment",
    ),
    path("contributions/merci/", views.thanks, name="thanks"),
    path("questions/", views.questions, name="questions"),
]
