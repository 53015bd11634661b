from django.urls import path

from commitments import views

app_name = "commitments"

urlpatterns = [
    path("", views.home, name="home"),
    path("plans/<slug:slug>/", views.plan_detail, name="plan-detail"),
]
