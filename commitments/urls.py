from django.urls import path
from django.utils.translation import gettext_lazy as _

from commitments import views

app_name = "commitments"

urlpatterns = [
    path("", views.home, name="home"),
    path("plans/<slug:slug>/", views.plan_detail, name="plan"),
    path("plans/<slug:plan>/engagements/<int:number>/", views.commitment_detail, name="detail"),
    path("plans/<slug:plan>/engagements/<int:number>/historique/", views.commitment_history, name="history"),
    path("administrations/<slug:slug>/", views.administration_detail, name="administration"),
    path("mises-a-jour/", views.updates, name="updates"),
    path("mises-a-jour/atom.xml", views.UpdatesFeed(), name="updates-feed"),
    path("recherche/", views.search, name="search"),
    path(
        "donnees-et-api/",
        views.static_page,
        {"name": "data", "title": _("Data and API")},
        name="data",
    ),
    path(
        "accessibilite/",
        views.static_page,
        {"name": "accessibility", "title": _("Accessibility")},
        name="accessibility",
    ),
    path(
        "confidentialite/",
        views.static_page,
        {"name": "privacy", "title": _("Personal data")},
        name="privacy",
    ),
    path(
        "mentions-legales/",
        views.static_page,
        {"name": "legal", "title": _("Legal notice")},
        name="legal",
    ),
]
