"""Shared file stores every node can reach: an S3-compatible bucket named by an address
``s3://bucket/prefix`` (credentials and region as boto3 reads them from the environment), used
for finished exports and for evidence documents."""
from __future__ import annotations

S3 = "s3://"


def bucket(url: str | None) -> tuple[str, str] | None:
    """The bucket and key prefix (empty, or ending in ``/``) an ``s3://bucket/prefix`` URL names;
    None for no URL."""
    if not url:
        return None
    name, prefix = in_store(url)
    return name, prefix.strip("/") + "/" if prefix.strip("/") else ""


def in_store(address: str) -> tuple[str, str]:
    """The bucket and the rest of an ``s3://bucket/key`` address."""
    name, _slash, key = address[len(S3):].partition("/")
    return name, key


def fetch(store, name: str, key: str):
    """The object ``key`` of bucket ``name`` as a stream, or None when it is gone from the store
    or the store does not answer."""
    from botocore.exceptions import BotoCoreError, ClientError
    try:
        return store.get_object(Bucket=name, Key=key)["Body"]
    except (BotoCoreError, ClientError):
        return None


def client(endpoint: str | None):
    import boto3   # only when a store is configured (pip install 'matrica[s3]')
    return boto3.client("s3", endpoint_url=endpoint or None)
