from closedloop.core.models import Role


def navigation(request):
    user = getattr(request, "user", None)
    is_admin = bool(user and user.is_authenticated and user.role == Role.ADMIN)
    return {"nav_is_admin": is_admin}
