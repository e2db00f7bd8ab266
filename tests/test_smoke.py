def test_platform_health_answers(api_client, db):
    response = api_client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json()["status"] == "healthy"
