"""Citizens' pages of the forums and contributions (being written)."""

from django.http import HttpRequest, HttpResponse


def _todo(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("")


forum_list = forum_detail = contribute_to_forum = contribute_to_commitment = thanks = questions = _todo
