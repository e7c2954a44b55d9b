from closedloop.core.models import ApiToken
from closedloop.core.services import create_api_token, revoke_api_token
from tests.api.conftest import Api, problems


def test_a_request_without_a_token_is_a_401_naming_authorization(client, db):
    response = client.get("/api/v1/leads")
    assert response.status_code == 401
    assert set(problems(response)) == {"Authorization"}
    assert response["WWW-Authenticate"] == "Bearer"


def test_a_revoked_token_no_longer_works(alice):
    token, secret = create_api_token(user=alice, name="script")
    api = Api(secret)
    assert api.get("/leads").status_code == 200
    revoke_api_token(token)
    assert api.get("/leads").status_code == 401


def test_the_tokens_page_shows_a_new_secret_once_and_stores_only_its_hash(client, alice):
    client.force_login(alice)
    response = client.post("/tokens/", {"name": "reporting"})
    secret = response.context["new_secret"]
    assert secret.encode() in response.content
    token = ApiToken.objects.get(user=alice)
    assert secret not in (token.token_hash, token.prefix) and token.prefix in secret
    assert Api(secret).get("/leads").status_code == 200
    assert secret.encode() not in client.get("/tokens/").content


def test_revoking_from_the_tokens_page_works(client, alice):
    token, secret = create_api_token(user=alice, name="old")
    client.force_login(alice)
    assert client.post(f"/tokens/{token.pk}/revoke/").status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert Api(secret).get("/leads").status_code == 401


def test_a_user_cannot_revoke_another_users_token(client, alice, bob):
    token, secret = create_api_token(user=bob, name="bobs")
    client.force_login(alice)
    assert client.post(f"/tokens/{token.pk}/revoke/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_the_swagger_ui_is_served_from_local_static_files(client, db):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html and "cdn" not in html.lower()
    assert client.get("/static/ninja/swagger-ui-bundle.js").status_code == 200
    assert client.get("/api/v1/openapi.json").json()["paths"]["/api/v1/leads"]
