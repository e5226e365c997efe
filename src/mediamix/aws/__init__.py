"""AWS boundary: S3 stores with atomic publication, SageMaker endpoints and training jobs.

Nothing here is imported by ``import mediamix``; boto3 (the ``aws`` extra) is loaded
by the functions that need it. Clients are passed in, so the same code runs against
AWS, LocalStack or a moto server on loopback.
"""
