"""ArBot Prometheus metrics: the ``prometheus`` sink, its dashboard and alert rules."""

from arbot_prometheus.sink import PrometheusSettings, PrometheusSink

__all__ = ["PrometheusSettings", "PrometheusSink"]
