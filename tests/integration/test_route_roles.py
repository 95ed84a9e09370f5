"""Every route says which role it needs; the few public ones are public on purpose.

A route added without a role dependency would be open to anyone holding no token at all, and
nothing else would notice: this test reads `required_role` off each route's dependencies.
"""

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from cowans.api.app import ROUTERS
from cowans.db.models import Role

# Public by design: liveness for load balancers, Prometheus scraping from the private network,
# logging in, and Shopify's webhook deliveries (authenticated by their HMAC instead).
PUBLIC = {
    ("GET", "/api/health"),
    ("GET", "/metrics"),
    ("POST", "/api/auth/login"),
    ("POST", "/api/shopify/webhooks"),
}


def required_roles(dependant: Dependant) -> list[Role]:
    found = []
    for dependency in dependant.dependencies:
        role = getattr(dependency.call, "required_role", None)
        if role is not None:
            found.append(role)
        found += required_roles(dependency)
    return found


def routes() -> list[tuple[str, str, list[Role]]]:
    return [
        (method, route.path, required_roles(route.dependant))
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in sorted(route.methods)
    ]


def test_every_route_but_the_public_ones_requires_a_role() -> None:
    open_routes = {(method, path) for method, path, roles in routes() if not roles}
    assert open_routes == PUBLIC
