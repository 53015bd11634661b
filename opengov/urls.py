from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from commitments.sitemaps import index_file, section_file
from commitments.views import robots_txt
from opengov.api import build_router
from opengov.bulk import bulk_download

# The API answers in JSON whatever happens, the site in DSFR pages.
handler400 = "opengov.api.bad_request"
handler404 = "opengov.api.not_found"
handler500 = "opengov.api.server_error"

urlpatterns = [
    path("robots.txt", robots_txt, name="robots"),
    path("sitemap.xml", index_file, name="sitemap"),
    path("sitemap-<section>.xml", section_file, name="sitemap-section"),
    path("api/v1/bulk/opengov-donnees.zip", bulk_download, name="api-bulk"),
    path("api/v1/", include((build_router().urls, "api"))),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The page and its start-up script are two requests: the Content-Security-Policy refuses inline scripts.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]
urlpatterns += i18n_patterns(
    path("admin/", admin.site.urls),
    path("", include("commitments.urls")),
    path("", include("indicators.urls")),
    path("", include("forums.urls")),
    prefix_default_language=False,
)
