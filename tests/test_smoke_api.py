from tests.api_helpers import GOOD_PASSWORD, admin_headers, bearer, login, new_org, new_user


def test_user_created_by_admin_can_log_in_with_login_name(client):
    headers = admin_headers(client)
    org_id, alias = new_org(client, headers)
    user_id, username = new_user(client, headers, org_id)
    session = login(client, f"{username}@{alias}", GOOD_PASSWORD)
    assert session["userId"] == user_id
    assert session["orgId"] == org_id
    me = client.get(f"/v1/users/{user_id}", headers=bearer(session["token"]))
    assert me.status_code == 200
    assert me.json()["loginName"] == f"{username}@{alias}"
