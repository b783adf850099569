"""Settings for bench_inbound's gunicorn: the portal's own, with a bare view added beside its URLs
(bench/inbound_urls.py), so both are served by the same server and middleware."""

from portal.settings import *  # noqa: F403

ROOT_URLCONF = "bench.inbound_urls"
