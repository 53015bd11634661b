"""The plans' pages under /archives/, for tests/test_addresses.py: an instance mounted elsewhere by its URLconf."""

from django.urls import include, path

urlpatterns = [path("archives/", include("commitments.urls"))]
