"""closedloop's own deployment checks, run by `closedloop check --deploy`."""

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register


@register(Tags.security, deploy=True)
def https_behind_a_proxy(app_configs, **kwargs) -> list[Warning]:
    """CLOSEDLOOP_SECURE without a trusted proxy redirects every request to HTTPS, forever.

    waitress speaks plain HTTP only, so HTTPS always ends at a proxy in front of it; unless
    waitress trusts that proxy, every request looks like plain HTTP and is redirected again.
    """
    if not settings.SECURE or settings.TRUSTED_PROXY:
        return []
    return [
        Warning(
            "CLOSEDLOOP_SECURE=1 without CLOSEDLOOP_TRUSTED_PROXY: requests that reached your "
            "HTTPS proxy arrive as plain HTTP and are redirected to HTTPS again, forever, and "
            "every visitor shares the proxy's address in the rate limits.",
            hint="Set CLOSEDLOOP_TRUSTED_PROXY to the proxy's address (or * when only the "
            "proxy can reach closedloop), and have the proxy send X-Forwarded-Proto and "
            "X-Forwarded-For.",
            id="closedloop.W001",
        )
    ]


def run_problems(*, deploy: bool) -> list[CheckMessage]:
    """Every unsilenced problem: errors always, and warnings too with `deploy`.

    `closedloop check --deploy` fails on any warning: each one is a production hardening gap.
    """
    from django.core import checks

    found = checks.run_checks(include_deployment_checks=deploy)
    threshold = checks.WARNING if deploy else checks.ERROR
    return [item for item in found if item.level >= threshold and not item.is_silenced()]


def format_problems(problems: list[CheckMessage]) -> str:
    """One numbered entry per problem: id, message and the hint on its own line."""
    lines = [f"{len(problems)} problem(s) found:"]
    for number, problem in enumerate(problems, start=1):
        lines.append(f"{number}. [{problem.id}] {problem.msg}")
        if problem.hint:
            lines.append(f"   fix: {problem.hint}")
    return "\n".join(lines)
