"""System health of the platform: resource metrics, service liveness, uptime and version, the summary, banners.

Everything here reads the real machine and the real components. It imports no app: the summary's figures are
contributed by the apps that own them (:mod:`config.system.summary`), and a service restart is announced for
the audit trail (:data:`config.system.services.service_restart_attempted`). The API views and the Celery tasks
are thin callers of these modules.
"""
