from closedloop.core.models import Role


def restrict_admin_to_admins(site) -> None:
    """Django's admin edits every table directly, so only the admin role may enter it."""

    def has_permission(request) -> bool:
        user = request.user
        return bool(user.is_active and user.is_authenticated and user.role == Role.ADMIN)

    site.has_permission = has_permission
    site.site_header = "closedloop administration"
    site.site_title = "closedloop admin"
