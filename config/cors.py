"""What browser clients on other origins (the SPA) may do: the paths, and the headers each way.

Plain constants, read by the settings (django-cors-headers' CORS_* settings).
"""

# Only the API families; the dashboard and admin are same-origin pages.
API_PATHS = r"^/(api/|face-service/|events(/|$)|config(/|$)|auth/token/?$|healthz)"
# What a cross-origin request may send.
REQUEST_HEADERS = (
    "accept",
    "accept-language",
    "authorization",
    "content-type",
    "x-api-key",
    "x-request-id",
    "x-requested-with",
)
# What a cross-origin page may read of a response: the request id, the rate limit's figures, the API version.
RESPONSE_HEADERS = (
    "X-Request-ID",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "Retry-After",
    "X-API-Version",
    "X-API-Status",
)
