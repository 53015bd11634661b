from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path

from commitments.sitemaps import SITEMAPS
from commitments.views import robots_txt

urlpatterns = [
    path("robots.txt", robots_txt, name="robots"),
    path("sitemap.xml", sitemap, {"sitemaps": SITEMAPS}, name="sitemap"),
]
urlpatterns += i18n_patterns(
    path("admin/", admin.site.urls),
    path("", include("commitments.urls")),
    path("", include("indicators.urls")),
    prefix_default_language=False,
)
