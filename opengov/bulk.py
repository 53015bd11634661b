"""The whole dataset in one download: the latest archive built by opengov.exports, served as a file."""

from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date, quote_etag
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from opengov import exports
from opengov.api import _error_body
from opengov.celery import app

RETRY_AFTER_SECONDS = 60


@require_GET
def bulk_download(request: HttpRequest) -> HttpResponse:
    opened = exports.open_archive()
    if opened is None and app.conf.task_always_eager:
        # Without a worker, the first download builds it: the embedded default holds little data.
        exports.build_archive()
        opened = exports.open_archive()
    if opened is None:
        exports.queue_build()
        message = _("The full dataset is being prepared. Please try again in a minute.")
        response = JsonResponse(_error_body(503, "export_in_preparation", message), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    file, archive = opened
    last_modified = int(archive.extracted.timestamp())
    # The data version tells two archives apart even when they were extracted within the same second.
    etag = quote_etag(f"{archive.data_changed.timestamp():.6f}-{last_modified}-{archive.size}")
    response = get_conditional_response(request, etag=etag, last_modified=last_modified)
    if response is None:
        response = FileResponse(file, as_attachment=True, filename=exports.ARCHIVE_NAME, content_type="application/zip")
    else:
        file.close()
    response["ETag"] = etag
    response["Last-Modified"] = http_date(last_modified)
    patch_cache_control(response, public=True, max_age=settings.PUBLIC_CACHE_SECONDS)
    if archive.is_stale():
        # Run when the response is closed, once sent: without a broker the rebuild runs in this process,
        # and must not hold the download. Django's own FileResponse closes its file the same way.
        response._resource_closers.append(exports.queue_build)
    return response
