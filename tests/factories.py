"""Factories for test data."""

from __future__ import annotations

import factory

from accounts.models import ApiKey, User

DEFAULT_PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    name = factory.Faker("name")
    role_id = "ROLE-VIEWER"
    status = "active"

    @factory.post_generation
    def password(self, create, extracted, **kwargs):
        self.set_password(extracted or DEFAULT_PASSWORD)
        if create:
            self.save(update_fields=["password"])


class ApiKeyFactory(factory.django.DjangoModelFactory):
    """``ApiKeyFactory()`` returns the key; its secret is on ``key.raw`` (tests only)."""

    class Meta:
        model = ApiKey
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"edge-worker-{n}")
    scopes = factory.LazyFunction(lambda: ["anpr:ingest"])
    tier = "premium"

    @factory.post_generation
    def secret(self, create, extracted, **kwargs):
        self.raw = extracted or ApiKey.generate()
        self.set_key(self.raw)
        if create:
            self.save(update_fields=["key_prefix", "key_hash"])
