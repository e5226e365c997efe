"""The dashboard: static pages (HTML, CSS, JavaScript) that call the REST API.

The browser holds the API key (``sessionStorage``) and calls ``/v1/...`` with it,
so the dashboard sees exactly what the key may see: the same tenants, scopes and
404s as any other client. Nothing here reads model files; every asset ships in the
package (no CDN).
"""
