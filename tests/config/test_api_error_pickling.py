"""An ApiError crosses a process boundary whole (inference workers raise them for the request to render)."""

from __future__ import annotations

import pickle

from config.api.contracts import ApiError, Contract, FieldError, Kind
from integrations.odoo.config import OdooNotConfigured


def test_it_keeps_every_field():
    error = ApiError(
        Kind.VALIDATION,
        "The face is too close to the image border",
        code="INVALID_IMAGE",
        field_errors=[FieldError("images.0", "too close")],
        headers={"Retry-After": "5"},
        extra={"hint": 1},
    )

    copy = pickle.loads(pickle.dumps(error))

    assert type(copy) is ApiError
    assert (copy.kind, copy.message, copy.code, copy.headers, copy.extra) == (
        Kind.VALIDATION,
        "The face is too close to the image border",
        "INVALID_IMAGE",
        {"Retry-After": "5"},
        {"hint": 1},
    )
    assert copy.field_errors == [FieldError("images.0", "too close")]
    assert str(copy) == str(error) and copy.status_for(Contract.SPA) == 400


def test_it_keeps_a_subclass_with_its_own_constructor():
    copy = pickle.loads(pickle.dumps(OdooNotConfigured()))

    assert type(copy) is OdooNotConfigured
    assert copy.code == "ODOO_NOT_CONFIGURED" and copy.kind == Kind.CONFLICT
