from django.urls import path

from indicators import views

app_name = "indicators"

urlpatterns = [
    path("plans/<slug:plan>/engagements/<int:number>/indicateurs/<int:pk>/", views.indicator_detail, name="detail"),
    path("plans/<slug:plan>/engagements/<int:number>/indicateurs/<int:pk>.csv", views.indicator_csv, name="csv"),
]
