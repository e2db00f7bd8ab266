"""Permission strings (``resource:action``) and the roles 001 seeds.

A role holds a list of these strings; ``*`` grants everything and ``resource:*`` every action on one
resource. API keys carry the same strings as scopes, plus machine scopes such as ``anpr:ingest``.
"""

PERMISSIONS: dict[str, str] = {
    "cameras:read": "See cameras, zones, sensors, their status and alerts",
    "cameras:write": "Create, change and control cameras, zones and sensors; acknowledge and mute alerts",
    "cameras:delete": "Delete cameras",
    "attendance:read": "See attendance records, logs and statistics",
    "attendance:write": "Add, correct and delete attendance logs; export",
    "faces:read": "See face profiles and images",
    "faces:write": "Enrol, change and delete face profiles",
    "detections:read": "See live detections and detection events",
    "detections:write": "Send frames and configure the detection provider",
    "system:read": "See system health, metrics and services",
    "system:write": "Restart services and post banner messages",
    "users:read": "See users and roles",
    "users:write": "Create, change and delete users",
    "audit:read": "Read the audit trail",
    "odoo:read": "See the Odoo integration",
    "odoo:write": "Configure and run the Odoo sync",
    "anpr:read": "See plate events and ANPR configuration",
    "anpr:write": "Change ANPR configuration and exporters",
    "anpr:ingest": "Ingest plate events (edge workers)",
    "counts:read": "See counts and analytics",
    "counts:ingest": "Ingest count data (counters)",
    "analytics:read": "002's name for counts:read (counts and their analytics)",
    "analytics:write": "002's name for counts:ingest (write count data)",
    "face-service": "Call the face-service API (attendance backend)",
    "developer:use": "Use the developer console",
    "gateway:read": "See API usage statistics of all clients",
}

SEEDED_ROLES = [
    {"id": "ROLE-ADMIN", "name": "Admin", "permissions": ["*"], "description": "Full system access"},
    {
        "id": "ROLE-OPERATOR",
        "name": "Operator",
        "permissions": ["cameras:read", "cameras:write", "attendance:read", "faces:write"],
        "description": "Operational access",
    },
    {
        "id": "ROLE-MANAGER",
        "name": "Manager",
        "permissions": ["cameras:read", "cameras:write", "analytics:read", "users:read"],
        "description": "Manager access (002)",
    },
    {
        "id": "ROLE-VIEWER",
        "name": "Viewer",
        "permissions": ["cameras:read", "attendance:read", "system:read"],
        "description": "Read-only access",
    },
]


# 002's analytics permissions are counting's: granting one grants what it stands for.
ALIASES: dict[str, tuple[str, ...]] = {
    "analytics:read": ("counts:read",),
    "analytics:write": ("counts:ingest",),
    "analytics:*": ("counts:read", "counts:ingest"),
}


def grants(granted: list[str], required: str) -> bool:
    """Whether a list of permission strings covers ``required``."""
    if "*" in granted or required in granted:
        return True
    if any(required in ALIASES.get(permission, ()) for permission in granted):
        return True
    resource, _, level = required.partition(":")
    # Who may change a resource may see it: 001's Operator holds faces:write without faces:read.
    if level == "read" and f"{resource}:write" in granted:
        return True
    return f"{resource}:*" in granted
