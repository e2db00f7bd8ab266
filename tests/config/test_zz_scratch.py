import json, uuid
import pytest

@pytest.mark.django_db
def test_probe(api_client):
    r = api_client.get("/api/v1/docs")
    doc = json.loads(r.content)
    for p, ops in doc["paths"].items():
        print(p, list(ops))
    print(json.dumps(doc["components"].get("securitySchemes")))
    print(json.dumps(doc["paths"]["/api/v1/auth/login"], indent=1)[:1500])
