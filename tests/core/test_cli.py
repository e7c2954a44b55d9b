import pytest
from typer.testing import CliRunner

from closedloop.cli import app
from closedloop.core.models import ApiToken, Role, User
from closedloop.core.services import hash_token, user_for_token

runner = CliRunner()


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["serve"],
        ["worker"],
        ["migrate"],
        ["check"],
        ["demo"],
        ["createuser"],
        ["token", "create"],
        ["bench"],
    ],
)
def test_every_command_explains_itself_with_help(command):
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_createuser_prints_a_generated_password_alone_on_the_last_line(db):
    result = runner.invoke(
        app, ["createuser", "Rita@Example.com", "--role", "rep", "--team", "East"]
    )
    assert result.exit_code == 0, result.output
    password = result.output.strip().splitlines()[-1]
    user = User.objects.get(email__iexact="rita@example.com")
    assert user.role == Role.REP and user.team.name == "East"
    assert user.check_password(password) and len(password) >= 12


def test_createuser_never_gives_two_users_the_same_password(db):
    first = runner.invoke(app, ["createuser", "a@example.com", "--role", "rep"]).output
    second = runner.invoke(app, ["createuser", "b@example.com", "--role", "rep"]).output
    assert first.strip().splitlines()[-1] != second.strip().splitlines()[-1]


def test_createuser_on_an_existing_user_resets_the_password(db):
    runner.invoke(app, ["createuser", "a@example.com", "--role", "rep"])
    result = runner.invoke(app, ["createuser", "a@example.com", "--role", "manager"])
    user = User.objects.get(email="a@example.com")
    assert user.role == Role.MANAGER
    assert user.check_password(result.output.strip().splitlines()[-1])
    assert User.objects.count() == 1


def test_createuser_refuses_an_unknown_role(db):
    result = runner.invoke(app, ["createuser", "a@example.com", "--role", "wizard"])
    assert result.exit_code != 0
    assert "role must be one of" in result.output
    assert not User.objects.exists()


def test_only_admins_get_into_djangos_admin(db):
    runner.invoke(app, ["createuser", "boss@example.com", "--role", "admin"])
    boss = User.objects.get(email="boss@example.com")
    assert boss.is_staff and boss.is_superuser


def test_token_create_prints_a_working_token_and_stores_only_its_hash(alice):
    result = runner.invoke(app, ["token", "create", alice.email, "--name", "script"])
    assert result.exit_code == 0, result.output
    secret = result.output.strip().splitlines()[-1]
    token = ApiToken.objects.get(user=alice)
    assert token.token_hash == hash_token(secret) and secret not in token.token_hash
    assert user_for_token(secret) == alice


def test_token_create_for_an_unknown_user_fails_clearly(db):
    result = runner.invoke(app, ["token", "create", "nobody@example.com"])
    assert result.exit_code != 0
    assert "no user with email" in result.output


def test_bench_names_the_known_benchmarks_when_asked_for_an_unknown_one():
    result = runner.invoke(app, ["bench", "no_such_benchmark"])
    assert result.exit_code != 0
    assert "unknown benchmark" in result.output
