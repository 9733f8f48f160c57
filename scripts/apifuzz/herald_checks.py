"""Schemathesis 3.21 hooks for Herald: Schemathesis 4's positive_data_acceptance
check (a request valid by the document must be answered 2xx, 401, 403, 404,
409 or 5xx; 5xx is not_a_server_error's business)."""
import schemathesis
from schemathesis.generation import DataGenerationMethod

ALLOWED = {401, 403, 404, 409}


@schemathesis.check
def positive_data_acceptance(response, case):
    code = response.status_code
    if case.data_generation_method == DataGenerationMethod.positive and not (
        200 <= code < 300 or code >= 500 or code in ALLOWED
    ):
        raise AssertionError(f"valid-by-the-document request refused: {code} {response.text[:300]}")
