def test_login_page(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert "Sign in" in response.get_data(as_text=True)


def test_each_demo_user_sees_home(client, demo, auth):
    for email in ["admin@example.org", "official.rs@example.org", "official.al@example.org",
                  "reviewer.rs@example.org", "auditor@example.org"]:
        auth.login(email)
        assert client.get("/").status_code == 200
        assert client.get("/responses/").status_code == 200
        auth.logout()


def test_admin_pages(client, demo, auth):
    auth.login("admin@example.org")
    for path in ["/admin/", "/admin/countries", "/admin/institutions", "/admin/users", "/admin/cycles", "/account"]:
        response = client.get(path)
        assert response.status_code == 200, path
