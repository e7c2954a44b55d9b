import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "closedloop.settings")
_django = get_wsgi_application()

from closedloop.core.accounts import locked_address_gate  # noqa: E402  (needs settings loaded)

# A locked-out address's log-in attempts are answered before Django runs (docs/decisions/0013).
application = locked_address_gate(_django)
