"""Connectors: where media data comes from, behind one :class:`~mediamix.ingest.base.Source` protocol.

- :mod:`~mediamix.ingest.base`: requests, batches, retry with backoff, redaction,
  and :class:`~mediamix.ingest.base.MediaDataClient` (fallback between sources).
- :mod:`~mediamix.ingest.google_ads` / :mod:`~mediamix.ingest.google_ads_client`:
  Google Ads over GAQL; the transport over the official ``google-ads`` client.
- :mod:`~mediamix.ingest.meta` / :mod:`~mediamix.ingest.meta_client`: Meta
  insights; the transport over the ``facebook-business`` SDK.
- :mod:`~mediamix.ingest.sources` / :mod:`~mediamix.ingest.datasets_client`:
  files, Kaggle and Hugging Face datasets from a local cache, synthetic data.
- :mod:`~mediamix.ingest.ga4`: GA4's BigQuery export into the attribution event
  log, and the Data API's daily aggregates by channel group.
- :mod:`~mediamix.ingest.stream`: the streamed-event schema, the
  :class:`~mediamix.ingest.stream.StreamSource` protocol and the Kinesis source.

Client libraries (the ``connectors`` extra) are imported only when a connector
runs, so ``import mediamix`` stays light.
"""
