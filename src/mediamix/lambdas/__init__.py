"""AWS Lambda shells: budget plans on request and scheduled drift checks.

Handlers parse the event, read the settings (``MEDIAMIX_STORAGE_URI`` ...) and call
the service layer; they hold no modeling logic. Packaging: docs/deploy-aws.md.
"""
